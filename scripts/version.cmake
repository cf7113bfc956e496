# Writes OUT from IN with MCASIM_GIT_DESCRIBE = `git describe` of SRC (or
# FALLBACK), at every build; the file changes only when the version does, so
# an unchanged tree rebuilds nothing.
execute_process(COMMAND git describe --always --dirty --tags
                WORKING_DIRECTORY ${SRC}
                OUTPUT_VARIABLE MCASIM_GIT_DESCRIBE OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT MCASIM_GIT_DESCRIBE)
  set(MCASIM_GIT_DESCRIBE "${FALLBACK}")
endif()
configure_file(${IN} ${OUT} @ONLY)
