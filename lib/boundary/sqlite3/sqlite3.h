/* A boundary of the build (lib/CMakeLists.txt, iotca_forbid): the module compiling this may not use SQLite. */
#error "iotca module boundary: SQLite is lib/store's alone (STYLE.md's module table); go through that module's API"
