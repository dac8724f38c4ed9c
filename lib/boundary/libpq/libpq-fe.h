/* A boundary of the build (lib/CMakeLists.txt, iotca_forbid): the module compiling this may not use libpq. */
#error "iotca module boundary: PostgreSQL (libpq) is lib/store's alone (STYLE.md's module table); go through that module's API"
