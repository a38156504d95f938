"""onnx-invariance: a version-matrix harness that checks scikit-learn, onnxruntime and the
JavaScript onnxruntimes give the same numbers, fast enough, across versions."""

__version__ = "0.1.0"
