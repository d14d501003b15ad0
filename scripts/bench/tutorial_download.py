"""The tutorial's image download (SEED.md section 2): ThreadPoolExecutor(10) + requests.

usage: tutorial_download.py LIST OUTDIR, where LIST has one `name,url` per line.
Each body goes to OUTDIR/<name>.png, as the tutorial writes it.
"""
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import requests

HEADERS = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"}


def download(name, url, out):
    body = requests.get(url, headers=HEADERS).content
    with open(os.path.join(out, name + ".png"), "wb") as f:
        f.write(body)


def main():
    listing, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(listing) as f:
        pairs = [line.rstrip("\n").split(",", 1) for line in f if line.strip()]
    with ThreadPoolExecutor(10) as pool:
        for future in [pool.submit(download, name, url, out) for name, url in pairs]:
            future.result()


main()
