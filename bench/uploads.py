"""What one product-form request with images costs the server: wall time and peak memory,
each case in a fresh Python process (so `ru_maxrss` is that request's own peak), against a
baseline measured in the same run: one 800×600 JPEG.

    python -m bench.uploads [--repeat 3] [--json]

Cases: the baseline; the worst request the limits accept (MAX_IMAGES_PER_REQUEST images of
IMAGE_MAX_PIXELS each, as JPEG, which is decoded at reduced size, and as PNG, which cannot
be); and the request of issue 9 (8 × 6300×6300 JPEG), which the pixel limit now refuses.
Each request goes through the whole app (Flask test client, form, Pillow, files written) on
a throw-away SQLite database. Memory is the rise of the process's peak RSS during the
request (Pillow allocates image memory outside Python's heap, where tracemalloc cannot see it).
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# (name, format, size in pixels, number of images). JPEGs are photo-like (about 1.8 MB at 16 Mpx),
# except issue 9's request, rebuilt from plain gradients (the issue's eight weighed 1.2 MB).
MAX_PIXELS = 16_000_000
LARGEST_SIDE = math.isqrt(MAX_PIXELS)  # 4000: a square of exactly the limit
CASES = [
    ("baseline: 1 × 800×600 JPEG", "JPEG", (800, 600), 1),
    (f"worst accepted: 8 × {LARGEST_SIDE}×{LARGEST_SIDE} JPEG", "JPEG", (LARGEST_SIDE, LARGEST_SIDE), 8),
    (f"worst accepted: 8 × {LARGEST_SIDE}×{LARGEST_SIDE} PNG", "PNG", (LARGEST_SIDE, LARGEST_SIDE), 8),
    ("issue 9's request: 8 × 6300×6300 JPEG (now refused)", "plain JPEG", (6300, 6300), 8),
]


def make_image(fmt: str, size: tuple[int, int]) -> bytes:
    """A photo-like image (a gradient with soft blotches), under MAX_IMAGE_BYTES and small
    enough that 8 fit in one request (MAX_CONTENT_LENGTH)."""
    from PIL import Image

    w, h = size
    base = Image.linear_gradient("L").resize((w, h))
    if fmt == "plain JPEG":
        buf = io.BytesIO()
        Image.merge("RGB", (base, base, base.transpose(Image.Transpose.ROTATE_90))).save(buf, "JPEG", quality=75)
    elif fmt == "JPEG":
        blotches = Image.effect_noise((max(1, w // 32), max(1, h // 32)), 60).resize((w, h), Image.Resampling.BICUBIC)
        img = Image.merge("RGB", (base, blotches, base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90)
    else:  # PNG compresses a gradient well; decoding costs the same per pixel whatever the content
        img = Image.merge("RGB", (base, base.transpose(Image.Transpose.ROTATE_90), base))
        buf = io.BytesIO()
        img.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


# ---- one case, in its own process --------------------------------------------------------

def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_case(image_path: Path, count: int) -> dict:
    from market import create_app
    from market.artisans.services import save_shop
    from market.config import TestConfig
    from market.extensions import db
    from market.models import Product

    work = Path(tempfile.mkdtemp(prefix="sm-bench-uploads-"))
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{work / 'bench.db'}", UPLOAD_FOLDER=work / "uploads",
                  UPLOAD_RATE_LIMIT="10000 per hour", IMAGE_MAX_PIXELS=MAX_PIXELS)
    app = create_app(config)
    data = image_path.read_bytes()
    with app.app_context():
        db.create_all()
        from market.accounts.services import register_user

        user = register_user("基准", "bench@example.cn", "correct-horse-battery", ["artisan"])
        artisan = save_shop(user, display_name="基准小店", kind="craftswoman", district="象山县")
        artisan.status = "approved"
        db.session.commit()
    client = app.test_client()
    assert client.post("/account/login", data={"email": "bench@example.cn",
                                               "password": "correct-horse-battery"}).status_code == 302
    form = {"title": "基准", "description": "", "category": "embroidery", "brand_id": "0", "price": "10",
            "stock": "1", "status": "draft",
            "images": [(io.BytesIO(data), f"{i}.{image_path.suffix}") for i in range(count)]}
    # Warm up everything but the images (templates, the first query, imports).
    client.post("/shop/products/new", data=dict(form, images=[(io.BytesIO(b""), "")]),
                content_type="multipart/form-data")
    before = _peak_rss_mb()
    started = time.perf_counter()
    resp = client.post("/shop/products/new", data=form, content_type="multipart/form-data")
    elapsed = time.perf_counter() - started
    after = _peak_rss_mb()
    with app.app_context():
        stored = sum(len(p.images) for p in db.session.query(Product).all())
    return {"seconds": elapsed, "rss_rise_mb": after - before, "status": resp.status_code, "stored": stored,
            "request_mb": len(data) * count / 1e6}


# ---- the whole run -----------------------------------------------------------------------

def measure(image_path: Path, count: int, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-m", "bench.uploads", "--case", str(image_path), "--count", str(count)],
                             capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            "rss_rise_mb": statistics.median(r["rss_rise_mb"] for r in runs),
            "status": runs[0]["status"], "stored": runs[0]["stored"], "request_mb": runs[0]["request_mb"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (median reported)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(Path(args.case), args.count)))
        return 0

    folder = Path(tempfile.mkdtemp(prefix="sm-bench-images-"))
    results = []
    for name, fmt, size, count in CASES:
        path = folder / f"{size[0]}x{size[1]}-{fmt.replace(' ', '-').lower()}.{fmt.split()[-1].lower()}"
        if not path.exists():
            path.write_bytes(make_image(fmt, size))
        results.append({"case": name, "images": count, **measure(path, count, args.repeat)})
    base = results[0]
    for r in results:
        r["time_x_baseline"] = r["seconds"] / base["seconds"]
        r["memory_x_baseline"] = r["rss_rise_mb"] / max(base["rss_rise_mb"], 1.0)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"Uploads ({args.repeat} runs per case, median; each in a fresh process; Python {sys.version.split()[0]},"
          f" {os.cpu_count()} cores)\n")
    print("| request | on the wire | answer | time | × baseline | peak memory rise | × baseline |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for r in results:
        answer = f"{r['stored']} stored" if r["status"] == 302 else "form error"
        print(f"| {r['case']} | {r['request_mb']:.1f} MB | {answer} | {r['seconds'] * 1000:.0f} ms | "
              f"{r['time_x_baseline']:.1f} | {r['rss_rise_mb']:.0f} MB | {r['memory_x_baseline']:.1f} |")
    print("\nMemory ratios use a floor of 1 MB for the baseline (its rise is often below the RSS granularity).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
