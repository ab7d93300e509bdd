# Runs a command; fails unless it exits with EXPECT_EXIT and its output
# (stdout and stderr together) matches the regex EXPECT_OUTPUT. For
# peng_add_checked_test (PengHelpers.cmake):
#   cmake -DEXPECT_EXIT=1 "-DEXPECT_OUTPUT=regex" -P check_test_output.cmake -- program args...
set(command)
set(after_separator FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(after_separator)
    list(APPEND command "${CMAKE_ARGV${i}}")
  elseif("${CMAKE_ARGV${i}}" STREQUAL "--")
    set(after_separator TRUE)
  endif()
endforeach()
if(NOT command OR NOT DEFINED EXPECT_EXIT OR NOT DEFINED EXPECT_OUTPUT)
  message(FATAL_ERROR "usage: cmake -DEXPECT_EXIT=N -DEXPECT_OUTPUT=REGEX -P ${CMAKE_CURRENT_LIST_FILE} -- COMMAND...")
endif()

# One variable for both streams merges them in the order written.
execute_process(COMMAND ${command} RESULT_VARIABLE exit_code OUTPUT_VARIABLE output
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
