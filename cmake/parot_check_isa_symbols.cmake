# SPDX-License-Identifier: BSD-3-Clause
# cmake -DNM=nm -DOBJECTS=a.o;b.o -P parot_check_isa_symbols.cmake
# Fails unless every object defines exactly one external symbol, parot::kernels::isa_*::table():
# an inline or template function compiled for one instruction-set level and left external could
# be picked by the linker for callers compiled for another level (SIGILL on older CPUs).
foreach(obj IN LISTS OBJECTS)
  execute_process(COMMAND ${NM} --defined-only --extern-only ${obj} OUTPUT_VARIABLE out
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${obj}")
  endif()
  string(REGEX MATCHALL "[^\n]+" lines "${out}")
  set(bad "")
  set(tables 0)
  foreach(line IN LISTS lines)
    if(line MATCHES " T _ZN5parot7kernels[0-9]+isa_[a-z0-9]+5tableEv$")
      math(EXPR tables "${tables} + 1")
    else()
      string(APPEND bad "\n  ${line}")
    endif()
  endforeach()
  if(NOT tables EQUAL 1 OR bad)
    message(FATAL_ERROR "${obj}: expected only the kernel table as external symbol, got "
                        "${tables} table(s) and:${bad}")
  endif()
  message(STATUS "${obj}: only the kernel table is external")
endforeach()
