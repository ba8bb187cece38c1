#!/usr/bin/env python3
"""bench/report.py: the results of `make bench` from a guest's serial log.

    bench/report.py --label arm64-6.12 --out bench/results <serial.txt>

Reads the BENCH-ENV, BENCH-JSON and BENCH-TABLE lines that bench/guest/10-bench.sh
printed, writes <out>/<label>.json (every run, plus the targets of issue 12 item 4),
<label>.md (the tables) and <label>.png (cost against buffer size; needs matplotlib).
Ratios only carry over: the guests run under QEMU TCG, which models no caches.
"""
import argparse
import json
import math
import os
import sys

KINDS = ["u-dma-buf", "u-dma-buf-osync", "anon", "anon-thp", "mainline-udmabuf", "dma-heap-system"]
TARGET_SIZE = 32 << 20


def parse(path):
    env, runs, table, diag = {}, [], [], []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            i = line.find("BENCH-")
            if i < 0:
                continue
            line = line[i:]
            if line.startswith("BENCH-ENV "):
                env = json.loads(line[len("BENCH-ENV "):])
            elif line.startswith("BENCH-JSON "):
                _, _, js = line.split(" ", 2)
                try:
                    runs.append(json.loads(js))
                except ValueError as e:
                    print(f"report.py: a BENCH-JSON line does not parse ({e}); skipped", file=sys.stderr)
            elif line.startswith("BENCH-TABLE"):
                table.append(line[len("BENCH-TABLE "):])
            elif line.startswith("BENCH-DIAG "):
                diag.append(line[len("BENCH-DIAG "):])
    runs.sort(key=lambda r: r["size"])
    return env, runs, table, diag


def kind(run, k):
    for m in run.get("map", []):
        if m["kind"] == k:
            return m if "unavailable" not in m else None
    return None


def sync_at(run, nbytes):
    for s in run["sync"]["ranges"]:
        if s["bytes"] == nbytes:
            return s
    return None


def fmt(v, nd=2):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.{nd}f}"


def targets(runs):
    """Issue 12 item 4, each a ratio from the same boot."""
    out = []
    if not runs:
        return out
    ref = min(runs, key=lambda r: abs(r["size"] - TARGET_SIZE))
    sz = f"{ref['size'] >> 20} MiB" if ref["size"] >= 1 << 20 else f"{ref['size'] >> 10} KiB"

    def add(name, value, limit, cmp, detail):
        met = None if value is None else (value <= limit if cmp == "<=" else value >= limit)
        out.append({"target": name, "value": value, "limit": f"{cmp} {limit}", "met": met,
                    "detail": detail, "size": ref["size"]})

    u, ml, anon = kind(ref, "u-dma-buf"), kind(ref, "mainline-udmabuf"), kind(ref, "anon")
    if u and ml:
        add(f"untouched mmap+munmap vs mainline /dev/udmabuf ({sz})", u["cycle_us"] / ml["cycle_us"], 1.5, "<=",
            f"{u['cycle_us']:.1f} us vs {ml['cycle_us']:.1f} us")
    small, big = runs[0], runs[-1]
    us, ub = kind(small, "u-dma-buf"), kind(big, "u-dma-buf")
    if us and ub and big is not small:
        add(f"mmap() of {big['size'] >> 20} MiB vs {small['size'] >> 10} KiB", ub["mmap_us"] / us["mmap_us"], 1.5, "<=",
            f"{ub['mmap_us']:.2f} us vs {us['mmap_us']:.2f} us")
    if u and anon:
        add(f"first read pass (a word a page) vs fresh anonymous memory, THP off ({sz})",
            u["first_touch_us"] / anon["first_touch_us"], 0.1, "<=",
            f"{u['first_touch_us']:.0f} us vs {anon['first_touch_us']:.0f} us; every word: "
            f"{u['first_read_us']:.0f} us vs {anon['first_read_us']:.0f} us = {u['first_read_us'] / anon['first_read_us']:.2f}")
        windows = math.ceil(ref["size"] / (2 << 20)) + 1
        drv = u.get("write_driver_faults")
        add(f"first write pass: driver faults per 2 MiB batch ({sz}: at most {windows})",
            drv, windows, "<=",
            f"driver faults {drv if drv is not None else 'not counted'}, all page faults {u['write_faults']} "
            f"(so {u['write_faults'] - drv if drv is not None else '?'} are the CPU's own: dirty-bit/access faults); "
            f"touch pass: driver {u.get('touch_driver_faults')}, all {u['touch_faults']}; "
            f"anonymous memory: {anon['write_faults']}")
    rw = ref["rw"]
    add(f"read() of the node vs memcpy between malloc'd buffers ({sz})", rw["read_ratio"], 0.9, ">=",
        f"{rw['read_MBps']:.0f} vs {rw['memcpy_MBps']:.0f} MB/s")
    add(f"write() of the node vs memcpy between malloc'd buffers ({sz})", rw["write_ratio"], 0.9, ">=",
        f"{rw['write_MBps']:.0f} vs {rw['memcpy_MBps']:.0f} MB/s")
    d = ref.get("direct")
    if d and d.get("ratio") is not None:
        add(f"O_DIRECT read into the mapping vs into malloc'd memory ({d['bytes'] >> 20} MiB from /dev/vda, "
            f"{d['chunk'] >> 10} KiB reads)", d["ratio"], 0.9, ">=",
            f"{d['into_mapping_MBps']:.0f} vs {d['into_malloc_MBps']:.0f} MB/s")
    elif d:
        add("O_DIRECT read into the mapping vs into malloc'd memory", None, 0.9, ">=", d.get("error", "no figure"))
    s4 = sync_at(ref, 4096)
    if s4:
        nul = ref["sync"]["null_syscall_ns"]
        add("sync ioctl of 4 KiB (for_device) vs a null syscall", s4["ioctl_for_device_vs_null"], 2, "<=",
            f"{s4['ioctl_for_device_ns']:.0f} ns vs {s4.get('null_syscall_paired_ns', nul):.0f} ns (null syscall timed alternately); "
            f"null ioctl {ref['sync']['null_ioctl_ns']:.0f} ns")
        add("sync ioctl of 4 KiB (for_cpu) vs a null syscall", s4["ioctl_for_cpu_vs_null"], 2, "<=",
            f"{s4['ioctl_for_cpu_ns']:.0f} ns vs {s4.get('null_syscall_paired_ns', nul):.0f} ns")
    return out


def size_label(n):
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB"


def markdown(label, env, runs, table, tg, diag):
    L = [f"# make bench: {label} ({env.get('krel', '?')})", "",
         "QEMU TCG guest (`make bench` = `bench/run`): the figures are ratios measured in one boot;",
         "TCG models no caches, so uncached and cached access cost the same here and cache",
         "maintenance is nearly free: read the ratios of mapping and fault costs, not the",
         "absolute numbers or the cached/uncached ones.", ""]
    if env.get("cma_kb", 1) == 0:
        L += ["No CMA in this kernel: 4 MiB is the largest buffer.", ""]
    L += ["## Targets (issue 12 item 4)", "", "| target | measured | limit | met | detail |", "|---|---|---|---|---|"]
    for t in tg:
        met = "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")
        L.append(f"| {t['target']} | {fmt(t['value'])} | {t['limit']} | {met} | {t['detail']} |")
    L += ["", "## mmap, first pass, munmap, sync against buffer size (us)", "",
          "| size | kind | mmap | munmap | untouched cycle | first touch | first read (all) | first write | munmap after touch | faults touch/write | driver faults touch/write |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        for k in KINDS:
            m = kind(r, k)
            if not m:
                continue
            L.append(f"| {size_label(r['size'])} | {m['label']} | {m['mmap_us']:.1f} | {m['munmap_us']:.1f} | "
                     f"{m['cycle_us']:.1f} | {m['first_touch_us']:.0f} | {m['first_read_us']:.0f} | "
                     f"{m['first_write_us']:.0f} | {m['munmap_touched_us']:.0f} | {m['touch_faults']}/{m['write_faults']} | "
                     f"{m.get('touch_driver_faults')}/{m.get('write_driver_faults')} |")
    L += ["", "| size | sync range | ioctl for_device ns | ioctl for_cpu ns | sysfs for_device ns | sysfs for_cpu ns | null syscall ns |",
          "|---|---|---|---|---|---|---|"]
    for r in runs:
        for s in r["sync"]["ranges"]:
            L.append(f"| {size_label(r['size'])} | {size_label(s['bytes'])} | {s['ioctl_for_device_ns']:.0f} | "
                     f"{s['ioctl_for_cpu_ns']:.0f} | {s['sysfs_for_device_ns'] or 0:.0f} | {s['sysfs_for_cpu_ns'] or 0:.0f} | "
                     f"{r['sync']['null_syscall_ns']:.0f} |")
    unavailable = {m["label"]: m["unavailable"] for r in runs for m in r["map"] if "unavailable" in m}
    if unavailable:
        L += [""] + [f"- {k}: not measured ({v})" for k, v in unavailable.items()]
    if diag:
        L += ["", "## Diagnosis: O_DIRECT into the mapping", "",
              "Hits of kprobes on the kernel's GUP functions while `dio` reads 2 x "
              "4 MiB from /dev/vda with O_DIRECT (1 MiB reads) into malloc'd memory, then into "
              "a cached mapping of a u-dma-buf buffer (bench/guest/10-bench.sh):", "", "```"] + diag + ["```"]
    if table:
        L += ["", "## The tool's table (`udmabuf bench`)", "", "```"] + table + ["```"]
    return "\n".join(L) + "\n"


def plot(label, runs, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report.py: no matplotlib: no plot", file=sys.stderr)
        return
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    panels = [("mmap_us", "untouched mmap()"), ("first_touch_us", "first pass (a word a page)"),
              ("munmap_touched_us", "munmap() after the pass")]
    for ax, (key, title) in zip(axes.flat, panels):
        for k in KINDS:
            pts = [(r["size"], kind(r, k)[key]) for r in runs if kind(r, k)]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=kind(runs[0], k)["label"]
                        if kind(runs[0], k) else k)
        ax.set_title(title)
    ax = axes.flat[3]
    for key, name in [("ioctl_for_device_ns", "sync_for_device, ioctl"), ("ioctl_for_cpu_ns", "sync_for_cpu, ioctl"),
                      ("sysfs_for_device_ns", "sync_for_device, sysfs")]:
        pts = [(r["size"], r["sync"]["ranges"][-1][key] / 1000) for r in runs if r["sync"]["ranges"][-1].get(key)]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
    pts = [(r["size"], r["sync"]["null_syscall_ns"] / 1000) for r in runs]
    ax.plot([p[0] for p in pts], [p[1] for p in pts], linestyle="--", label="null syscall")
    ax.set_title("sync of the whole buffer")
    for ax in axes.flat:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("buffer size (bytes)")
        ax.set_ylabel("us")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"make bench, {label} (QEMU TCG: compare the lines, not the absolute times)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("serial")
    a = ap.parse_args()
    env, runs, table, diag = parse(a.serial)
    if not runs:
        print(f"report.py: {a.serial} has no BENCH-JSON line", file=sys.stderr)
        return 1
    tg = targets(runs)
    os.makedirs(a.out, exist_ok=True)
    base = os.path.join(a.out, a.label)
    with open(base + ".json", "w") as f:
        json.dump({"label": a.label, "env": env, "targets": tg, "diag": diag, "runs": runs}, f, indent=1)
    with open(base + ".md", "w") as f:
        f.write(markdown(a.label, env, runs, table, tg, diag))
    plot(a.label, runs, base + ".png")
    print(f"# {a.label}: {base}.md, .json, .png")
    for t in tg:
        met = "n/a" if t["met"] is None else ("met" if t["met"] else "NOT met")
        print(f"#   {t['target']}: {fmt(t['value'])} ({t['limit']}) {met}: {t['detail']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
