# Helper functions shared by every part of the build.

# peng_add_gtest(NAME SOURCES src... [LIBS lib...] [LABELS label...])
# One GoogleTest binary; each test case becomes a ctest test. Discovery runs
# before each test so that an emulator's settings (VLEN) are read at test time.
function(peng_add_gtest name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 120
    PROPERTIES LABELS "${ARG_LABELS}")
endfunction()
