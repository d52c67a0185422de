"""GPU state through NVML (nvidia-ml-py): memory, utilisation, temperature, processes.

On a machine with no NVIDIA driver or no `pynvml`, the answer says so plainly
(`available: False` with the reason) instead of failing.
"""
from __future__ import annotations

import os
from typing import Any

from engine.i18n import N_


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def gpu_stats() -> dict[str, Any]:
    try:
        import pynvml
    except ImportError:
        return {"available": False, "reason": N_("no GPU support installed (pip install nvidia-ml-py)"), "devices": []}
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
        return {"available": False, "reason": N_("no NVIDIA GPU or driver found ({error}); running on CPU", error=_text(exc)),
                "devices": []}
    try:
        devices = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            device: dict[str, Any] = {
                "index": index,
                "name": _text(pynvml.nvmlDeviceGetName(handle)),
                "memory_total_bytes": int(memory.total),
                "memory_used_bytes": int(memory.used),
                "memory_free_bytes": int(memory.free),
                "utilization_percent": None,
                "memory_utilization_percent": None,
                "temperature_c": None,
                "processes": [],
            }
            try:
                util = pynvml.nvmlDeviceGetUtilizationRates(handle)
                device["utilization_percent"], device["memory_utilization_percent"] = int(util.gpu), int(util.memory)
            except Exception:
                pass
            try:
                device["temperature_c"] = int(pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU))
            except Exception:
                pass
            try:
                for proc in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
                    used = getattr(proc, "usedGpuMemory", None)
                    device["processes"].append({"pid": int(proc.pid), "used_bytes": int(used) if used else None,
                                                "this_process": int(proc.pid) == os.getpid()})
            except Exception:
                pass
            devices.append(device)
        return {"available": bool(devices), "reason": None if devices else N_("NVML reports no GPU"), "devices": devices,
                "driver_version": _text(pynvml.nvmlSystemGetDriverVersion())}
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass
