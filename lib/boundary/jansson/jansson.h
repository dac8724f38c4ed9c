/* A boundary of the build (lib/CMakeLists.txt, iotca_forbid): the module compiling this may not use Jansson. */
#error "iotca module boundary: Jansson is server/, tools/ and lib/json's alone (STYLE.md's module table); go through that module's API"
