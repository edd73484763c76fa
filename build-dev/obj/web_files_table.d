build-dev/obj/web_files_table.o: build-dev/gen/web_files.c src/web/web.h
src/web/web.h:
