"""Generate a realistic corpus from the sample text reports.

Each agency gets several consecutive years; numbers in the tables vary; a share
of reports gets an injected defect (a broken total, a blank cell, a late date).
Usage: python benchmarks/generate.py N OUT_DIR [--years 3] [--seed 1] [--defects 0.2]
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = {
    # stem: (agency as written in the title, title year)
    "000_bebe3e000f0fa92c": ("柳州市人民政府办公室", 2021),
    "001_0821f10813b957c3": ("柳州市城中区人民政府", 2020),
    "002_70eac6e8a2e0d3d2": ("柳州市柳江区发展和改革局", 2022),
    "003_c430893fbea2ae1b": ("城中街道办", 2021),
}
CITIES = ["柳州市", "南宁市", "桂林市", "梧州市", "北海市", "玉林市", "百色市", "河池市", "贺州市", "来宾市"]
DISTRICTS = ["城中区", "鱼峰区", "柳南区", "柳北区", "柳江区", "青秀区", "兴宁区", "江南区", "西乡塘区", "良庆区"]
OFFICES = ["发展和改革局", "教育局", "财政局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "卫生健康委员会", "市场监督管理局", "人民政府办公室"]
CELL = re.compile(r"^(\t[\u00a0\u3000 ]*)(\d+)([\u00a0\u3000 ]*)$", re.M)


def agency_name(i: int) -> str:
    return CITIES[i % len(CITIES)] + DISTRICTS[(i // len(CITIES)) % len(DISTRICTS)] + OFFICES[(i // 100) % len(OFFICES)] + (
        f"第{i // 1000}分局" if i >= 1000 else ""
    )


def vary(text: str, rng: random.Random) -> str:
    # One factor per report keeps every 勾稽 sum of the template true: only the
    # injected defects should break them.
    factor = rng.randint(1, 6)

    def cell(m: re.Match[str]) -> str:
        return m.group(1) + str(int(m.group(2)) * factor) + m.group(3)

    return CELL.sub(cell, text)


def generate(n: int, out: Path, years: int = 3, seed: int = 1, defects: float = 0.2) -> list[Path]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    texts = {stem: (ROOT / "reports_in" / f"{stem}.txt").read_text(encoding="utf-8") for stem in TEMPLATES}
    paths = []
    agencies = (n + years - 1) // years
    for a in range(agencies):
        stem = list(TEMPLATES)[a % len(TEMPLATES)]
        title_agency, title_year = TEMPLATES[stem]
        name = agency_name(a)
        for k in range(years):
            if len(paths) >= n:
                return paths
            year = title_year - (years - 1) + k
            text = texts[stem].replace(title_agency + str(title_year), name + str(year), 1)
            text = text.replace(title_agency + "\n\n" + str(title_year), name + "\n\n" + str(year), 1)
            text = text.replace(title_agency + "\n" + str(title_year), name + "\n" + str(year), 1)
            text = vary(text, rng)
            if rng.random() < defects:
                kind = rng.choice(["total", "blank", "late"])
                if kind == "total":
                    text = re.sub(r"(（七）总计\n\t)(\d+)", lambda m: m.group(1) + str(int(m.group(2)) + 1), text, count=1)
                elif kind == "blank":
                    text = CELL.sub(lambda m: m.group(1), text, count=1)
                else:
                    text = re.sub(r"(\d{4})年1月(\d+)日", lambda m: f"{m.group(1)}年3月{m.group(2)}日", text, count=1)
            p = out / f"{a:05d}-{year}.txt"
            p.write_text(text, encoding="utf-8")
            paths.append(p)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--defects", type=float, default=0.2)
    a = ap.parse_args()
    paths = generate(a.n, a.out, a.years, a.seed, a.defects)
    print(f"{len(paths)} reports in {a.out}")


if __name__ == "__main__":
    main()
