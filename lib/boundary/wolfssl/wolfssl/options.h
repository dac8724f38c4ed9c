/* A boundary of the build (lib/CMakeLists.txt, iotca_forbid): the module compiling this may not use wolfSSL. */
#error "iotca module boundary: wolfSSL is lib/issuer's alone (STYLE.md's module table); go through that module's API"
