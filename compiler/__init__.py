"""The adc compiler: .ad source -> AST -> checked AST -> IR -> passes -> AD -> emitted Python.

Nothing in this package imports adc.runtime; the runtime drives these stages.
"""
