"""Boards, toolchains and runners: build firmware for a board and run it (QEMU or natively)."""
