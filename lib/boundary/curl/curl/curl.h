/* A boundary of the build (lib/CMakeLists.txt, iotca_forbid): the module compiling this may not use libcurl. */
#error "iotca module boundary: libcurl is tools/iotca's alone (STYLE.md's module table); go through that module's API"
