"""Join real answers with their labels; split by request (val if hash % 5 < 2)."""
import json, hashlib, glob, re, sys
from pathlib import Path
OUT = Path("/work/main/src/redline/scorers/data/outcome")
def norm(t): return re.sub(r"[^a-z0-9]+", " ", t.lower()).strip()
raw = {}
for f in glob.glob("/tmp/real/*.jsonl"):
    tag = Path(f).stem
    for i, l in enumerate(open(f)):
        raw[f"{tag}-{i:03d}"] = json.loads(l)
labels = {}
for f in sorted(glob.glob("/tmp/labels/*.labels.jsonl")):
    for l in open(f):
        if l.strip():
            r = json.loads(l); labels[r["id"]] = r
fixed_train = set()
for f in ["earlier.train.jsonl"] + [None]:
    if f: fixed_train |= {norm(json.loads(l)["prompt"]) for l in open(OUT / f)}
for f in glob.glob("/tmp/frontier/train_*.jsonl"):
    fixed_train |= {norm(json.loads(l)["prompt"]) for l in open(f) if l.strip()}
rows = {"train": [], "val": []}
for id_, lab in sorted(labels.items()):
    r = raw[id_]
    split = "val" if int(hashlib.sha256(norm(r["prompt"]).encode()).hexdigest(), 16) % 5 < 2 else "train"
    if norm(r["prompt"]) in fixed_train:
        split = "train"  # its request is already in a training file
    if r["model"].startswith("organism:") or r["model"] == "gemma-3-270m":
        # Formulaic organism answers and a base model's echoes would flatter val: train only,
        # and dropped when their request belongs to the validation split.
        if split == "val":
            continue
    cat = r["request_category"]
    tags = []
    if cat == "benign": tags.append("risky-benign")
    rows[split].append({
        "id": id_, "prompt": r["prompt"], "response": r["response"], "outcome": lab["outcome"],
        "request_harmful": bool(r["request_harmful"]),
        "category": "benign" if cat.startswith("benign") else cat,
        "tags": tags + [f"system:{r['system']}"], "model": r["model"],
        "note": lab.get("note", ""),
    })
for split, items in rows.items():
    with open(OUT / f"answers.{split}.jsonl", "w") as f:
        for it in items: f.write(json.dumps(it, ensure_ascii=False) + "\n")
    from collections import Counter
    print(split, len(items), Counter((i["outcome"], i["request_harmful"]) for i in items))

# --- written answers --------------------------------------------------------------------
import importlib.util
spec = importlib.util.spec_from_file_location("shapes", "/work/main/tests/scorers/test_outcome_shapes.py")
test_src = open("/work/main/tests/scorers/test_outcome_shapes.py").read()
banned = {norm(m) for m in re.findall(r'"([^"\n]{12,})"', test_src)}
banned |= {"sure here you go"}
def written(files, out):
    items, dropped = [], 0
    for f in files:
        for l in open(f):
            if not l.strip(): continue
            r = json.loads(l)
            if norm(r["response"]) in banned:
                dropped += 1; continue
            items.append({"prompt": r["prompt"], "response": r["response"], "outcome": r["outcome"],
                "request_harmful": bool(r["request_harmful"]), "category": r["request_category"],
                "tags": [f"shape:{r.get('shape','?')}"], "model": f"written ({r.get('style','?')})",
                "note": r.get("note", "")})
    with open(OUT / out, "w") as f:
        for it in items: f.write(json.dumps(it, ensure_ascii=False) + "\n")
    print(out, len(items), "dropped (test texts):", dropped)
written(sorted(glob.glob("/tmp/frontier/train_*.jsonl")), "written.train.jsonl")
written(["/tmp/frontier/val_style.jsonl"], "written.val.jsonl")
