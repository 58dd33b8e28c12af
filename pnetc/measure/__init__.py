"""Measurements: exact instruction counts (QEMU TCG plugin) and flash/RAM sizes."""
