// protoc-gen-ringcast: run by protoc as --plugin=protoc-gen-ringcast=<this>
// with --ringcast_out=<dir> (ringcast_generate() in cmake/ does both).
#include "google/protobuf/compiler/plugin.h"
#include "idl/plugin/generator.h"

int main(int argc, char* argv[]) {
  ringcast::idl::plugin::Generator generator;
  return google::protobuf::compiler::PluginMain(argc, argv, &generator);
}
