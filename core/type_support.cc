#include "ringcast/type_support.h"

namespace ringcast {
namespace {

bool HasTailAt(const idl::MessageTable& table, int depth) {
  // Generated tables are acyclic for inline messages (the plugin refuses a
  // message containing itself), but bound the walk all the same.
  if (depth > idl::kMaxDepth) return true;
  for (std::uint32_t i = 0; i < table.field_count; ++i) {
    const idl::FieldTable& f = table.fields[i];
    if (f.repeated || f.kind == idl::Kind::kString || f.kind == idl::Kind::kBytes) return true;
    if (f.kind == idl::Kind::kMessage && f.message != nullptr &&
        HasTailAt(*f.message, depth + 1)) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool TypeSupport::HasTail(const idl::MessageTable& table) { return HasTailAt(table, 0); }

}  // namespace ringcast
