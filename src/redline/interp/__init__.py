"""Look inside white-box models: activation capture, probes, anomaly detection, neurons.

Everything here needs the ``hf`` extra (torch, transformers, safetensors) and imports it
only when called. Hook points use TransformerLens names (``blocks.3.hook_resid_post``).

>>> from redline.interp import capture, train_probe, train_belief_probe, fit_anomaly
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redline.interp.anomaly import AnomalyDetector, fit_anomaly
    from redline.interp.belief import (
        BeliefProbe,
        belief_hooks,
        belief_positions,
        train_belief_probe,
    )
    from redline.interp.capture import (
        ActivationCache,
        Positions,
        cached_capture,
        capture,
        expand_hooks,
        hook_name,
        hooked,
    )
    from redline.interp.data import Example, load_examples, model_inputs
    from redline.interp.detectors import Detector, load_detector, read_internals
    from redline.interp.metrics import DetectionReport, detection_report
    from redline.interp.neurons import LayerExplanations, explain_layer, write_html
    from redline.interp.probes import LinearProbe, evaluate, train_probe

_EXPORTS = {
    "ActivationCache": "capture",
    "Positions": "capture",
    "cached_capture": "capture",
    "capture": "capture",
    "expand_hooks": "capture",
    "hook_name": "capture",
    "hooked": "capture",
    "AnomalyDetector": "anomaly",
    "fit_anomaly": "anomaly",
    "BeliefProbe": "belief",
    "belief_hooks": "belief",
    "belief_positions": "belief",
    "train_belief_probe": "belief",
    "Example": "data",
    "load_examples": "data",
    "model_inputs": "data",
    "Detector": "detectors",
    "load_detector": "detectors",
    "read_internals": "detectors",
    "DetectionReport": "metrics",
    "detection_report": "metrics",
    "LayerExplanations": "neurons",
    "explain_layer": "neurons",
    "write_html": "neurons",
    "LinearProbe": "probes",
    "evaluate": "probes",
    "train_probe": "probes",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'redline.interp' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(f"redline.interp.{module}"), name)


__all__ = [
    "ActivationCache",
    "AnomalyDetector",
    "BeliefProbe",
    "DetectionReport",
    "Detector",
    "Example",
    "LayerExplanations",
    "LinearProbe",
    "Positions",
    "belief_hooks",
    "belief_positions",
    "cached_capture",
    "capture",
    "detection_report",
    "evaluate",
    "expand_hooks",
    "explain_layer",
    "fit_anomaly",
    "hook_name",
    "hooked",
    "load_detector",
    "load_examples",
    "model_inputs",
    "read_internals",
    "train_belief_probe",
    "train_probe",
    "write_html",
]
