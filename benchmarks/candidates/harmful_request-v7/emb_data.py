import json, glob, numpy as np, torch
torch.set_num_threads(1)
from redline.scorers.encoder import encode
texts=set()
for f in glob.glob('/work/main/src/redline/scorers/data/**/*.jsonl', recursive=True):
    for l in open(f):
        try: r=json.loads(l)
        except Exception: continue
        for k in ('prompt','objective','benign','harmful'):
            p=r.get(k)
            if isinstance(p,str) and p.strip(): texts.add(p)
texts=sorted(texts)
e=encode(texts)
np.savez('/work/v7/data_emb.npz', emb=e, texts=np.array(texts, dtype=object))
print(len(texts), e.shape)
