# Runs a command; fails unless it exits with EXPECT_EXIT and its output
# (stdout and stderr together) matches the regex EXPECT_OUTPUT. CHECK_FILE,
# written by peng_add_checked_test (PengHelpers.cmake), sets COMMAND,
# EXPECT_EXIT and EXPECT_OUTPUT:
#   cmake -DCHECK_FILE=build/.../checked_tests/NAME.cmake -P check_test_output.cmake
if(NOT CHECK_FILE)
  message(FATAL_ERROR "usage: cmake -DCHECK_FILE=FILE -P ${CMAKE_CURRENT_LIST_FILE}")
endif()
include(${CHECK_FILE})

# One variable for both streams merges them in the order written.
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE exit_code OUTPUT_VARIABLE output
                ERROR_VARIABLE output)
message("${output}")
set(failures)
# A signal gives a string ("Segmentation fault"), never the expected number.
if(NOT "${exit_code}" STREQUAL "${EXPECT_EXIT}")
  list(APPEND failures "exit code ${exit_code}, expected ${EXPECT_EXIT}")
endif()
if(NOT "${output}" MATCHES "${EXPECT_OUTPUT}")
  list(APPEND failures "output does not match '${EXPECT_OUTPUT}'")
endif()
if(failures)
  list(JOIN failures "\n  " text)
  message(FATAL_ERROR "check failed:\n  ${text}")
endif()
