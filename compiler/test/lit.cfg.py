# lit configuration for Peng's compiler tests.
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "Peng compiler"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
# Backends keep their compiler tests beside their code (backends/*/compiler/test)
# and point their site config here with peng_test_source_root.
config.test_source_root = getattr(config, "peng_test_source_root", os.path.dirname(__file__))
config.test_exec_root = config.peng_test_exec_root

llvm_config.use_default_substitutions()  # FileCheck, not, count
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    [ToolSubst("peng-opt", unresolved="fatal"), ToolSubst("pengc-test", unresolved="fatal"),
     ToolSubst("pengc", unresolved="fatal"), ToolSubst("peng-info", unresolved="fatal")],
    config.peng_tools_dir + [config.llvm_tools_dir])
