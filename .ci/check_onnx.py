"""Runs onnx.checker (with shape inference) on every .onnx file the tests exported into DIR.

Usage: /usr/bin/python3 .ci/check_onnx.py DIR   (Debian's python3-onnx)
Exits non-zero when a file fails or when fewer files than expected were written.
"""
import glob
import os
import sys

import onnx

directory = sys.argv[1]
files = sorted(glob.glob(os.path.join(directory, "*.onnx")))
if len(files) < 10:
    print(f"expected the tests to export at least 10 models into {directory}, found {len(files)}", file=sys.stderr)
    sys.exit(1)
failed = 0
for path in files:
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        print(f"ok   {os.path.basename(path)} (opset {model.opset_import[0].version}, {len(model.graph.node)} nodes)")
    except Exception as e:  # every failure is reported, then counted
        failed += 1
        print(f"FAIL {os.path.basename(path)}: {e}", file=sys.stderr)
sys.exit(1 if failed else 0)
