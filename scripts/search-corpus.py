#!/usr/bin/env python3
"""Writes a search benchmark's corpus and queries.

    scripts/search-corpus.py OUT_DIR [ARTICLES] [WORDS] [QUERIES]

Articles (Markdown with TOML front matter, for `broadsheet publish`) are drawn
word by word from the frequencies of real English text: the reader comments
and mails in ../shared/datasets plus the demo articles, so that common words
are in every article and rare ones in a few, as in a newsroom's archive.
Dates are spread over the last three years. The same seed gives the same
corpus.

Queries (one per line, words joined by `+`) are all different, so that no
search is answered from the page cache: single words found in 0.5-10 % of
the articles (WordPress's benchmark word is in 2.9 %), each with a common
word found in 10-50 % of them (as in "ferry strike"), and words found in no
article. `wordpress-word.txt` names the word found in the share of articles
nearest WordPress's benchmark word (2.9 %).
"""
import collections
import datetime
import glob
import itertools
import json
import os
import random
import re
import sys

out = sys.argv[1]
articles = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
words_per_article = int(sys.argv[3]) if len(sys.argv) > 3 else 800
queries = int(sys.argv[4]) if len(sys.argv) > 4 else 300_000
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
data = os.path.join(root, "..", "shared", "datasets")
rng = random.Random(20261204)

texts = []
with open(os.path.join(data, "news-comments", "fox-news-comments.jsonl"), encoding="utf-8") as f:
    for line in f:
        item = json.loads(line)
        texts += [item["text"], item["title"], item["meta"]]
with open(os.path.join(data, "spamassassin", "easy-ham-1.jsonl"), encoding="utf-8") as f:
    for line in f:
        item = json.loads(line)
        texts += [item.get("subject", ""), item.get("body", "")]
for path in glob.glob(os.path.join(root, "demo", "articles", "*.md")):
    with open(path, encoding="utf-8") as f:
        texts.append(f.read().split("+++")[-1])
counts = collections.Counter()
for text in texts:
    counts.update(w for w in re.findall(r"[a-z]+", text.lower()) if 1 < len(w) <= 14 or w in ("a", "i"))
vocabulary = [w for w, n in counts.items() if n >= 2]
cumulative = list(itertools.accumulate(counts[w] for w in vocabulary))

def words(n):
    return rng.choices(vocabulary, cum_weights=cumulative, k=n)

def sentence(n):
    w = words(n)
    return " ".join(w).capitalize() + "."

os.makedirs(os.path.join(out, "articles"), exist_ok=True)
bylines = [f"{a} {b}" for a in ("Marta", "Colm", "Elin", "Sunniva", "Tomas", "Aoife", "Rafael", "Nadia")
           for b in ("Ibanez", "Reddy", "Garvey", "Holt", "Okafor")]
sections = ["News", "News > Local", "Politics", "Business", "Sport", "Culture", "Opinion", "Science"]
tag_pool = rng.sample(vocabulary[:5000], 300)
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
document_frequency = collections.Counter()
for i in range(articles):
    headline = " ".join(words(rng.randint(6, 11))).capitalize()
    standfirst = sentence(rng.randint(18, 30))
    paragraphs, left = [], words_per_article
    while left > 0:
        n = min(left, rng.randint(50, 110))
        paragraphs.append(" ".join(sentence(rng.randint(8, 22)) for _ in range(max(1, n // 15))))
        left -= n
    body = "\n\n".join(paragraphs)
    tags = rng.sample(tag_pool, 3)
    document_frequency.update(set(re.findall(r"[a-z]+", f"{headline} {standfirst} {body} {' '.join(tags)}".lower())))
    date = now - datetime.timedelta(seconds=rng.randint(3600, 3 * 365 * 86400))
    with open(os.path.join(out, "articles", f"{i:05}.md"), "w", encoding="utf-8") as f:
        f.write("+++\n")
        f.write(f"headline = {json.dumps(headline + ' ' + str(i))}\n")
        f.write(f"slug = \"search-bench-{i}\"\n")
        f.write(f"standfirst = {json.dumps(standfirst)}\n")
        f.write(f"byline = {json.dumps(rng.choice(bylines))}\n")
        f.write(f"categories = [{json.dumps(rng.choice(sections))}]\n")
        f.write(f"tags = {json.dumps(tags)}\n")
        f.write(f"date = {date.isoformat()}\n")
        f.write("+++\n")
        f.write(body + "\n")

# Words found in 0.5-10 % of the articles, and words found in none.
middling = sorted(w for w, n in document_frequency.items() if articles * 0.005 <= n <= articles * 0.10)
common = sorted(w for w, n in document_frequency.items() if articles * 0.10 < n <= articles * 0.50)
absent = [w for w in counts if w not in document_frequency and len(w) > 3]
singles = set()
pairs = set()
lines = []
for w in rng.sample(middling, len(middling)):
    singles.add(w)
    lines.append(w)
for w in rng.sample(absent, min(len(absent), queries // 10)):
    lines.append(w)
while len(lines) < queries:
    a, b = rng.choice(middling), rng.choice(common)
    if (a, b) not in pairs:
        pairs.add((a, b))
        lines.append(f"{a}+{b}")
rng.shuffle(lines)
with open(os.path.join(out, "queries.txt"), "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
# WordPress's benchmark word is in 2.9 % of the posts: the word nearest that.
wordpress_word = min(middling, key=lambda w: (abs(document_frequency[w] - 0.029 * articles), w))
with open(os.path.join(out, "wordpress-word.txt"), "w", encoding="utf-8") as f:
    f.write(wordpress_word + "\n")
median = sorted(document_frequency[w] for w in middling)[len(middling) // 2]
print(f"{articles} articles of {words_per_article} words from a vocabulary of {len(vocabulary)}; "
      f"{len(lines)} different queries: {len(singles)} single words in 0.5-10 % of the articles "
      f"(median {100 * median / articles:.1f} %), {len(pairs)} of them with a word in 10-50 %, "
      f"{min(len(absent), queries // 10)} words in none; '{wordpress_word}' is in "
      f"{100 * document_frequency[wordpress_word] / articles:.1f} % of the articles")
