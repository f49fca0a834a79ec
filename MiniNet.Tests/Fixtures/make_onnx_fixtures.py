"""Writes the ONNX import fixtures: small models exported by PyTorch 1.13's torch.onnx.export into onnx/*.onnx, and
onnx_import.json with each model's input (batch 3) and PyTorch's output on it.

Each model is exported at opsets 13 and 17, with training=TrainingMode.PRESERVE (BatchNormalization nodes kept, the
model in eval mode) and with the default (PyTorch folds BatchNorm into the convolution before it), always with a
dynamic batch dimension. Run with Debian's PyTorch 1.13 and python3-onnx:
    /usr/bin/python3 MiniNet.Tests/Fixtures/make_onnx_fixtures.py
CI never runs this script; the files it writes are committed.
"""
import io
import json
import os

import torch
import torch.nn as nn

torch.manual_seed(7)
here = os.path.dirname(os.path.abspath(__file__))


class Dnn(nn.Module):
    """The bias-free BN-DNN, flattened with view(N, -1) (the Shape/Gather/Unsqueeze/Concat pattern)."""

    def __init__(self, act):
        super().__init__()
        self.fc1 = nn.Linear(784, 32, bias=False)
        self.bn1 = nn.BatchNorm1d(32)
        self.fc2 = nn.Linear(32, 10, bias=False)
        self.act = act

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return self.fc2(self.act(self.bn1(self.fc1(x))))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.AvgPool2d(2))
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(16 * 7 * 7, 10))

    def forward(self, x):
        x = self.features(x)
        return self.head(x.view(x.size(0), -1))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = torch.relu(self.bn(self.stem(x)))
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        x = torch.relu(x + y)
        return self.fc(torch.flatten(self.pool(x), 1))


class Mlp(nn.Module):
    """Gemm with bias, Sigmoid and Tanh, and a MatMul + Add from a rank-3 input."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 12)
        self.b = nn.Linear(12, 5)

    def forward(self, x):
        return self.b(torch.tanh(torch.sigmoid(self.a(x))))


MODELS = {
    "dnn_relu": (lambda: Dnn(nn.ReLU()), (1, 28, 28)),
    "dnn_sigmoid": (lambda: Dnn(nn.Sigmoid()), (1, 28, 28)),
    "cnn": (Cnn, (1, 28, 28)),
    "residual": (Residual, (3, 10, 10)),
    "mlp": (Mlp, (6,)),
    "mlp_rank3": (Mlp, (4, 6)),
}

out = {}
for name, (make, shape) in MODELS.items():
    model = make()
    model.train()
    with torch.no_grad():  # running statistics that are not the defaults
        for _ in range(3):
            model(torch.randn(16, *shape) * 1.5 + 0.3)
    model.eval()
    x = torch.randn(3, *shape)
    with torch.no_grad():
        y = model(x)
    for opset in (13, 17):
        for mode, training in (("preserve", torch.onnx.TrainingMode.PRESERVE), ("default", torch.onnx.TrainingMode.EVAL)):
            file = f"{name}_opset{opset}_{mode}.onnx"
            buffer = io.BytesIO()
            torch.onnx.export(model, torch.randn(2, *shape), buffer, opset_version=opset, training=training,
                              input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
            with open(os.path.join(here, "onnx", file), "wb") as fh:
                fh.write(buffer.getvalue())
            out[file] = {"shape": [3, *shape], "x": [float(v) for v in x.reshape(-1)],
                         "y_shape": list(y.shape), "y": [float(v) for v in y.reshape(-1)]}

with open(os.path.join(here, "onnx_import.json"), "w") as fh:
    json.dump(out, fh, indent=None, separators=(",", ":"))
