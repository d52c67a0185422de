"""Tiny ONNX face models with the real ones' inputs and outputs, built on the fly.

- detector: SCRFD layout (input [1, 3, H, W]; scores, boxes and 5 keypoints at strides 8/16/32,
  two anchors, batch dimension exported like scrfd_500m_bnkps). It "sees" a face where a 48 px
  window centred on a stride-16 anchor is strongly red (R - (G + B) / 2), so a test draws faces
  as red squares of 48 px centred on multiples of 16 in a 640 px wide picture;
- recogniser: ArcFace layout ([N, 3, 112, 112] -> [N, 512]): the aligned crop's 4x4 layout per
  colour channel, each channel's mean removed, through a fixed random projection, so the pattern inside the square is
  the identity;
- genderage: [N, 3, 96, 96] -> [N, 3], always (female 0.2, male 0.8, age 0.35).
insightface routes all three by their shapes, as it does the real files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

FACE = 48
"""Side of a tiny-model face in pixels (at detector scale 1: pictures 640 px wide)."""
STRONG_RED = 255
_ARCFACE_DST = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                         [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)


def _const(name: str, value: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, np.float32), name)


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="photoindex-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def build_detector(path: Path) -> Path:
    nodes, inits, outputs = [], [], {}
    inits.append(_const("redness_w", np.array([1.0, -0.5, -0.5], np.float32).reshape(1, 3, 1, 1)))
    nodes.append(helper.make_node("Conv", ["input.1", "redness_w"], ["redness"], name="redness"))
    kps = ((_ARCFACE_DST - 56.0) * (FACE / 112.0)).reshape(-1)
    for stride in (8, 16, 32):
        s = f"s{stride}"
        if stride == 16:
            half = FACE // 2
            nodes.append(helper.make_node("AveragePool", ["redness"], [f"{s}_avg"], kernel_shape=[FACE, FACE],
                                          strides=[16, 16], pads=[half, half, half - 16, half - 16]))
            inits += [_const(f"{s}_gain", np.array(10.0)), _const(f"{s}_bias", np.array(-12.0))]
        else:
            nodes.append(helper.make_node("AveragePool", ["redness"], [f"{s}_avg"], kernel_shape=[stride, stride],
                                          strides=[stride, stride]))
            inits += [_const(f"{s}_gain", np.array(0.0)), _const(f"{s}_bias", np.array(-20.0))]
        nodes += [
            helper.make_node("Mul", [f"{s}_avg", f"{s}_gain"], [f"{s}_g"]),
            helper.make_node("Add", [f"{s}_g", f"{s}_bias"], [f"{s}_logit"]),
            helper.make_node("Sigmoid", [f"{s}_logit"], [f"{s}_map"]),
            helper.make_node("Transpose", [f"{s}_map"], [f"{s}_t"], perm=[0, 2, 3, 1]),
            helper.make_node("Concat", [f"{s}_t", f"{s}_t"], [f"{s}_two"], axis=3),
        ]
        inits += [numpy_helper.from_array(np.array([1, -1, 1], np.int64), f"{s}_shape"),
                  _const(f"{s}_zero", np.array(0.0)),
                  _const(f"{s}_box", np.full((1, 1, 4), FACE / 2 / stride, np.float32)),
                  _const(f"{s}_kps", (kps / stride).reshape(1, 1, 10))]
        nodes += [
            helper.make_node("Reshape", [f"{s}_two", f"{s}_shape"], [f"score_{stride}"]),
            helper.make_node("Mul", [f"score_{stride}", f"{s}_zero"], [f"{s}_z"]),
            helper.make_node("Add", [f"{s}_z", f"{s}_box"], [f"bbox_{stride}"]),
            helper.make_node("Add", [f"{s}_z", f"{s}_kps"], [f"kps_{stride}"]),
        ]
        outputs[stride] = stride
    outs = [helper.make_tensor_value_info(f"{kind}_{stride}", TensorProto.FLOAT, [1, f"n{stride}", width])
            for kind, width in (("score", 1), ("bbox", 4), ("kps", 10)) for stride in (8, 16, 32)]
    graph = helper.make_graph(nodes, "tiny_scrfd", [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "H", "W"])],
                              outs, inits)
    return _save(graph, path)


def build_recogniser(path: Path, seed: int = 0) -> Path:
    projection = np.random.default_rng(seed).normal(size=(48, 512)).astype(np.float32)
    nodes = [
        helper.make_node("AveragePool", ["input.1"], ["cells"], kernel_shape=[28, 28], strides=[28, 28], name="cells"),
        helper.make_node("ReduceMean", ["cells"], ["mean"], axes=[2, 3], keepdims=1),
        helper.make_node("Sub", ["cells", "mean"], ["centred"], name="centre"),
        helper.make_node("Flatten", ["centred"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "projection"], ["683"], name="project"),
    ]
    graph = helper.make_graph(
        nodes, "tiny_arcface", [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["N", 3, 112, 112])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, ["N", 512])], [_const("projection", projection)])
    return _save(graph, path)


def build_genderage(path: Path) -> Path:
    nodes = [
        helper.make_node("ReduceMean", ["data"], ["m"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Flatten", ["m"], ["f"], axis=1),
        helper.make_node("Mul", ["f", "zero"], ["z"]),
        helper.make_node("Add", ["z", "answer"], ["fc1"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_genderage", [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, 96, 96])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, ["N", 3])],
        [_const("zero", np.array(0.0)), _const("answer", np.array([[0.2, 0.8, 0.35]], np.float32))])
    return _save(graph, path)


def build_tiny_pack(folder: Path, *, genderage: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    build_detector(folder / "det_tiny.onnx")
    build_recogniser(folder / "w_tiny.onnx")
    if genderage:
        build_genderage(folder / "genderage.onnx")
    return folder


# Identities: the red channel's layout inside the square (G = B = 0 keeps it "red" for the detector).
PATTERNS = {
    "anna": lambda y, x: 255 if x < FACE // 2 else 140,   # bright left half
    "boris": lambda y, x: 255 if y < FACE // 2 else 140,  # bright top half
    "vera": lambda y, x: 255 if (x < FACE // 2) == (y < FACE // 2) else 140,  # checker
}
WEAK = (185, 40, 40)
"""A uniformly dull red square: scores about 0.3, found only under a lowered threshold."""


def draw_faces(faces: list[tuple[str, int, int]], size: tuple[int, int] = (640, 480),
               background: tuple[int, int, int] = (128, 128, 128)) -> Image.Image:
    """A picture with tiny-model faces `(identity or "weak", centre x, centre y)`; centres on multiples of 16."""
    pixels = np.empty((size[1], size[0], 3), np.uint8)
    pixels[:] = background
    half = FACE // 2
    for who, cx, cy in faces:
        assert cx % 16 == 0 and cy % 16 == 0, "centre faces on the detector's stride-16 grid"
        block = np.zeros((FACE, FACE, 3), np.uint8)
        if who == "weak":
            block[:] = WEAK
        else:
            pattern = PATTERNS[who]
            for y in range(FACE):
                for x in range(FACE):
                    block[y, x, 0] = pattern(y, x)
        pixels[cy - half: cy + half, cx - half: cx + half] = block
    return Image.fromarray(pixels, "RGB")
