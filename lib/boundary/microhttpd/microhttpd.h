/* A boundary of the build (lib/CMakeLists.txt, iotca_forbid): the module compiling this may not use libmicrohttpd. */
#error "iotca module boundary: libmicrohttpd is server/'s alone (STYLE.md's module table); go through that module's API"
