# Copies an MLIR kernel file to `out` without the top-level func.func whose
# name (after the @) matches the regex `skip`:
#   awk -v skip='^(matmul|rowsum)' -v out=copy.mlir -f drop_functions.awk in.mlir
# A function runs from its `func.func @name` line to the first line that is a
# lone closing brace. An empty `skip` copies everything.
/^func\.func @/ {
  name = $2
  sub(/^@/, "", name)
  sub(/\(.*/, "", name)
  dropping = (skip != "" && name ~ skip)
}
!dropping { print > out }
dropping && /^}/ { dropping = 0 }
