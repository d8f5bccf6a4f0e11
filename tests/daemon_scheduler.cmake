# ctest daemon.scheduler-default: the daemon's scheduler default (app/config.cpp) holds without a config
# file, and a config file or a flag still wins over it. Run as
#   cmake -DRELAYD=path/to/chat-relayd -DWORKDIR=dir -P daemon_scheduler.cmake
function(dump_policy out)
  execute_process(COMMAND ${RELAYD} --dump-config ${ARGN} WORKING_DIRECTORY ${WORKDIR}
                  OUTPUT_VARIABLE dump ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "chat-relayd --dump-config ${ARGN} failed (${rc}): ${err}")
  endif()
  string(REGEX MATCH "scheduler {[^}]*policy = '([a-z]+)'" _ "${dump}")
  set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()

file(MAKE_DIRECTORY ${WORKDIR})
file(REMOVE ${WORKDIR}/caf-application.ini)
dump_policy(p)
if(NOT p STREQUAL "sharing")
  message(FATAL_ERROR "default scheduler.policy is '${p}', expected 'sharing'")
endif()
dump_policy(p --scheduler.policy=stealing)
if(NOT p STREQUAL "stealing")
  message(FATAL_ERROR "--scheduler.policy=stealing gave '${p}'")
endif()
file(WRITE ${WORKDIR}/stealing.ini "[scheduler]\npolicy='stealing'\n")
dump_policy(p --config-file=${WORKDIR}/stealing.ini)
if(NOT p STREQUAL "stealing")
  message(FATAL_ERROR "a config file with policy='stealing' gave '${p}'")
endif()
message(STATUS "scheduler.policy: default sharing, file and flag override it")
