# embed.cmake - turn a file into a C byte array at build time, so the
# binary carries it (the dashboard page) with no xxd and no install
# step.  Run by CMakeLists.txt as
#
#   cmake -DIN=src/dashboard.html -DOUT=build/dashboard_html.c \
#         -DFUNC=dashboard_html -DHEADER=dashboard.h -P cmake/embed.cmake
#
# and writes a C file defining
#
#   const char *FUNC(size_t *len)
#
# (the prototype is in HEADER), which returns the bytes of IN, followed
# by a NUL that len does not count.

foreach(var IN ITEMS IN OUT FUNC HEADER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR
            "embed.cmake: -D${var}=... is required (IN, OUT, FUNC, HEADER)")
  endif()
endforeach()
if(NOT FUNC MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
  message(FATAL_ERROR "embed.cmake: FUNC: expected a C identifier, "
                      "got \"${FUNC}\"")
endif()
if(NOT EXISTS "${IN}")
  message(FATAL_ERROR "embed.cmake: ${IN}: no such file to embed")
endif()

file(SIZE "${IN}" size)
if(size EQUAL 0)
  message(FATAL_ERROR "embed.cmake: ${IN}: the file is empty; refusing "
                      "to embed nothing")
endif()
file(READ "${IN}" hex HEX)

# "3c21..." -> "0x3c,0x21,...", then a line break after every 12 bytes.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# (CMake regexes have no {n}: the pattern is spelled out 12 times.)
string(REPEAT "0x[0-9a-f][0-9a-f]," 12 line)
string(REGEX REPLACE "(${line})" "\\1\n\t" bytes "${bytes}")

get_filename_component(name "${IN}" NAME)
set(text "/* Generated from ${name} by cmake/embed.cmake: do not edit. */
#include <stddef.h>

#include \"${HEADER}\"

static const unsigned char bytes[${size} + 1] = {
\t${bytes}0x00
};

const char *${FUNC}(size_t *len)
{
\t*len = ${size};
\treturn (const char *)bytes;
}
")

file(WRITE "${OUT}" "${text}")
