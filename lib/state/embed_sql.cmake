# Write OUTPUT: a C++ initializer list of every sql/NNNN_*.sql file, in order, so that the
# binary carries its own migrations.
file(GLOB files "${SQL_DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT files)
set(out "// Generated from sql/ by lib/state/embed_sql.cmake. Do not edit.\n")
foreach(f ${files})
  get_filename_component(name ${f} NAME_WE)
  string(SUBSTRING ${name} 0 4 number)
  math(EXPR version "${number}")
  file(READ ${f} body)
  string(APPEND out "{${version}, \"${name}\", R\"sclman_sql(${body})sclman_sql\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp "${out}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUTPUT}.tmp ${OUTPUT})
