"""Reverse-mode AD: activity analysis, the adjoint builder, derivative rules and the transform."""
