# sdk.consumer_pkgconfig: examples/consumer/main.cpp built as docs/sdk.md shows
# for projects without CMake,
#   c++ main.cpp $(pkg-config --cflags --libs peng)
# at the C++ standard that peng.hpp states (C++14), warnings as errors, and run;
# below C++14, peng.hpp must stop with its own message.
set(ENV{PKG_CONFIG_PATH} ${PKG_CONFIG_DIR})
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs peng
  OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${PKG_CONFIG} --variable=libdir peng
  OUTPUT_VARIABLE libdir OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
separate_arguments(flags UNIX_COMMAND "${flags}")
file(MAKE_DIRECTORY ${OUT})
execute_process(COMMAND ${CXX} -std=c++14 -Wall -Wextra -pedantic -Werror ${SOURCE} ${flags}
                        -Wl,-rpath,${libdir} -o ${OUT}/peng-consumer
  COMMAND_ECHO STDOUT COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${OUT}/peng-consumer ${MODULE} COMMAND_ERROR_IS_FATAL ANY)

execute_process(COMMAND ${CXX} -std=c++11 -fsyntax-only ${SOURCE} ${flags}
  RESULT_VARIABLE rc ERROR_VARIABLE error)
if(rc EQUAL 0 OR NOT error MATCHES "peng.hpp needs C\\+\\+14")
  message(FATAL_ERROR "peng.hpp at -std=c++11 did not stop with its #error:\n${error}")
endif()
