// tests/idl/idl_test_util.h: .proto files parsed at run time (no codegen),
// and random messages for the property tests.
#ifndef RINGCAST_TESTS_IDL_IDL_TEST_UTIL_H_
#define RINGCAST_TESTS_IDL_IDL_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "google/protobuf/compiler/importer.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"

namespace ringcast::idl::testing {

// Collects parser errors as "file:line:column: message" lines.
class ErrorList : public google::protobuf::compiler::MultiFileErrorCollector {
 public:
  void AddError(const std::string& file, int line, int column,
                const std::string& message) override {
    text += file + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " +
            message + "\n";
  }
  std::string text;
};

// Parses .proto files from tests/idl/proto (imports resolve there, in
// ringcast's proto dir and in protobuf's include dir), source info kept.
class ProtoFiles {
 public:
  ProtoFiles() : importer_(&tree_, &errors_) {
    tree_.MapPath("", RINGCAST_TEST_PROTO_DIR);
    tree_.MapPath("", RINGCAST_PROTO_DIR);
    tree_.MapPath("", PROTOBUF_INCLUDE_DIR);
  }
  // Adds a directory searched before the others.
  void MapPath(const std::string& dir) { tree_.MapPath("", dir); }
  const google::protobuf::FileDescriptor* Import(const std::string& name) {
    return importer_.Import(name);
  }
  const google::protobuf::Descriptor* Message(const std::string& file, const std::string& type) {
    const google::protobuf::FileDescriptor* f = Import(file);
    return f == nullptr ? nullptr : importer_.pool()->FindMessageTypeByName(type);
  }
  std::unique_ptr<google::protobuf::Message> New(const google::protobuf::Descriptor* d) {
    return std::unique_ptr<google::protobuf::Message>(factory_.GetPrototype(d)->New());
  }
  const std::string& errors() const { return errors_.text; }

 private:
  google::protobuf::compiler::DiskSourceTree tree_;
  ErrorList errors_;
  google::protobuf::compiler::Importer importer_;
  google::protobuf::DynamicMessageFactory factory_;
};

// Fills `m` with random values: each field set with probability 1/2,
// repeated fields with 0..max_repeated elements, message nesting limited
// by `depth`. Floats are finite (NaN != NaN would fail equality).
void RandomFill(google::protobuf::Message* m, std::mt19937_64& rng, int depth = 3,
                int max_repeated = 5);

}  // namespace ringcast::idl::testing

#endif  // RINGCAST_TESTS_IDL_IDL_TEST_UTIL_H_
