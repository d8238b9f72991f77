"""Encode every request text of the data files once (data_emb.npz), for the near-repeat search.

Run from a checkout: python emb_data.py (writes data_emb.npz in the current directory).
"""

import glob
import json

import numpy as np
import torch

from redline.scorers.encoder import encode

torch.set_num_threads(1)
texts = set()
for name in glob.glob("src/redline/scorers/data/**/*.jsonl", recursive=True):
    for line in open(name):
        try:
            row = json.loads(line)
        except ValueError:
            continue
        for key in ("prompt", "objective", "benign", "harmful"):
            text = row.get(key)
            if isinstance(text, str) and text.strip():
                texts.add(text)
ordered = sorted(texts)
vectors = encode(ordered)
np.savez("data_emb.npz", emb=vectors, texts=np.array(ordered, dtype=object))
print(len(ordered), vectors.shape)
