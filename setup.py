"""Build the C hot path of the order-book feed (console/domain/_fastbook.c).

Everything else about the package lives in pyproject.toml; setuptools merges the two, so
`pip install -e .` compiles the extension in place (gcc and the Python headers are required).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "console.domain._fastbook",
            sources=["console/domain/_fastbook.c"],
            depends=["console/domain/_fastbook.h", "console/domain/_fastbook_scan.h",
                     "console/domain/_fastbook_apply.h"],
            extra_compile_args=["-O3", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                "-Wno-missing-field-initializers"],
        )
    ],
)
