# Write OUTPUT: the text of INPUT as a C++ raw string literal, so that the binary carries it
# (the LB server's script, etc/lb/sclman-lb-apply, goes into user data).
file(READ ${INPUT} body)
file(WRITE ${OUTPUT}.tmp "// Generated from ${INPUT} by lib/cm/embed_text.cmake. Do not edit.\nR\"sclman_text(${body})sclman_text\"\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUTPUT}.tmp ${OUTPUT})
