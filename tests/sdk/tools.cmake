# sdk.installed_tools: pengc, peng-run and peng-info from the prefix's bin/,
# run as the README shows them. None of them, nor libpeng.so, may look for
# libraries in the build tree.
foreach(file ${BINDIR}/pengc ${BINDIR}/peng-run ${BINDIR}/peng-info ${LIBDIR}/libpeng.so)
  file(READ_ELF ${PREFIX}/${file} RPATH rpath RUNPATH runpath CAPTURE_ERROR error)
  if(error)
    message(FATAL_ERROR "${file}: ${error}")
  endif()
  string(FIND "${rpath};${runpath}" "${BUILD_DIR}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "${file} searches the build tree for libraries: ${rpath}${runpath}")
  endif()
endforeach()

set(bin ${PREFIX}/${BINDIR})
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
# No LD_LIBRARY_PATH: the tools must find their libraries by themselves.
set(run ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH)
execute_process(COMMAND ${run} ${bin}/peng-info --null
  OUTPUT_VARIABLE info COMMAND_ERROR_IS_FATAL ANY)
if(NOT info MATCHES "null0")
  message(FATAL_ERROR "peng-info --null lists no null0:\n${info}")
endif()
execute_process(COMMAND ${run} ${bin}/pengc ${KERNELS} -o ${OUT}/kernels.peng --targets=host,rvv
  COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${run} ${bin}/peng-run ${OUT}/kernels.peng --kernel=matmul_29x17x23
                        --random-inputs -o ${OUT}/c.npy
  WORKING_DIRECTORY ${OUT} COMMAND_ERROR_IS_FATAL ANY)
file(SIZE ${OUT}/c.npy size)
if(size LESS 2668)  # 29 x 23 f32 and a header
  message(FATAL_ERROR "peng-run wrote ${size} bytes to c.npy")
endif()
