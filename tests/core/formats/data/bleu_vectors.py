#!/usr/bin/env python3
# Prints the expected char-BLEU values used in test_char_bleu.cpp, computed by NLTK's own
# nltk/translate/bleu_score.py (nltk commit f2a92bd, January 2024), called exactly as MATRIX's
# data_formating.py calls it: sentence_bleu([chosen], rejected, smoothing_function=SmoothingFunction().method1).
# NLTK is not installed on the build machine, so this loads bleu_score.py from a checkout with a stub
# nltk.util.ngrams (the only thing it imports from NLTK).
# Usage: python3 bleu_vectors.py /path/to/nltk/translate/bleu_score.py [DATA_DIR]
#        (DATA_DIR: the folder with data/mtrace/, default tests/data/external of this repository)
import json, os, sys, tempfile

bleu_py = sys.argv[1]
shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../data/external")
root = tempfile.mkdtemp()
os.makedirs(os.path.join(root, "nltk", "translate"))
open(os.path.join(root, "nltk", "__init__.py"), "w").close()
open(os.path.join(root, "nltk", "translate", "__init__.py"), "w").close()
with open(os.path.join(root, "nltk", "util.py"), "w") as f:
    f.write("def ngrams(s, n, **kw):\n    s = list(s)\n    return (tuple(s[i:i + n]) for i in range(len(s) - n + 1))\n")
with open(bleu_py) as src, open(os.path.join(root, "nltk", "translate", "bleu_score.py"), "w") as dst:
    dst.write(src.read())
sys.path.insert(0, root)
from nltk.translate.bleu_score import sentence_bleu, SmoothingFunction

f = SmoothingFunction().method1
d = json.load(open(shared + "/data/mtrace/mtrace-subset-60.json"))
a = [t["value"] for t in d[0]["conversations"] if t["from"] == "assistant"]
b = [t["value"] for t in d[1]["conversations"] if t["from"] == "assistant"]
cases = [
    ("identical", "print(x)", "print(x)"),
    ("abd_vs_abc", "abd", "abc"),
    ("short_hyp_3", "abc", "abcdef"),
    ("one_char_match", "a", "a"),
    ("no_unigram", "xyz", "abc"),
    ("empty_candidate", "", "abc"),
    ("empty_reference", "abc", ""),
    ("both_empty", "", ""),
    ("longer_hyp", "the cat sat on the mat!!", "the cat sat on the mat"),
    ("repeats_clipped", "aaaaaaa", "aa"),
    ("unicode", "café ☕ 東京", "cafe ☕ 東京都"),
    ("emoji_astral", "smile 😀😀", "smile 😀"),
    ("code_kw_vs_pos", 'x = ocr(image_path="a.jpg")\nprint(x)', 'x = ocr("a.jpg")\nprint(x)'),
    ("real_r0_t0_vs_r0_t1", a[0], a[1]),
    ("real_r0_t0_vs_r1_t0", a[0], b[0]),
    ("real_r1_t0_vs_r0_t0", b[0], a[0]),
]
for name, cand, ref in cases:
    print(json.dumps(name), repr(float(sentence_bleu([ref], cand, smoothing_function=f))))
