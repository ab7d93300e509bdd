# sdk.install: `cmake --install BUILD_DIR` into a fresh PREFIX, so that the
# consumer tests see what a user's install holds and nothing from an earlier run.
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
  OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
