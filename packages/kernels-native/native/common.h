// Shared helpers of the Axon addon: argument checking (every entry point
// validates counts, types and lengths before touching memory, and throws a JS
// Error naming the kernel), checked size arithmetic, and small utilities.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace axon {

// A typed array's memory: data() already includes the view's byteOffset and
// size is the view's element count, never the underlying buffer's.
template <typename T>
struct View {
  T* data = nullptr;
  int64_t size = 0;
  bool present = false;  // false for an optional argument given as null/undefined
};

using F32 = View<float>;
using I32 = View<int32_t>;

// Largest size we accept for any dimension or element count: keeps every
// product we form far from int64 overflow and inside BLAS's 32-bit ints where
// it matters (checked separately there).
constexpr int64_t kMaxSize = int64_t(1) << 40;

// Validating reader for one kernel call. Every failure throws a Napi::Error
// (or TypeError) whose message starts with the kernel name.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* kernel, size_t minCount);

  Napi::Env env() const { return info_.Env(); }
  const char* kernel() const { return kernel_; }

  [[noreturn]] void fail(const std::string& message) const;
  [[noreturn]] void typeFail(const std::string& message) const;

  F32 f32(size_t i, const char* name) const;
  F32 f32OrNull(size_t i, const char* name) const;  // null/undefined allowed
  I32 i32(size_t i, const char* name) const;
  double number(size_t i, const char* name) const;  // any finite-or-not JS number
  int64_t dim(size_t i, const char* name) const;    // integer in [0, kMaxSize]
  bool flag(size_t i, const char* name) const;
  std::string str(size_t i, const char* name) const;
  std::vector<int64_t> dims(size_t i, const char* name) const;  // array of dims (a shape: rank <= 64)
  std::vector<int64_t> counts(size_t i, const char* name) const;  // array of dims of any length
  Napi::Object object(size_t i, const char* name, bool optional = false) const;
  Napi::Array array(size_t i, const char* name) const;

  // Fields of an options object (Conv2DInfo, AdamConfig, ...).
  int64_t dimField(const Napi::Object& o, const char* key, const char* objName) const;
  double numField(const Napi::Object& o, const char* key, const char* objName) const;
  double numFieldOr(const Napi::Object& o, const char* key, double fallback, bool* given = nullptr) const;
  bool flagField(const Napi::Object& o, const char* key, const char* objName) const;

  // Length checks: "kernel: x has 10 elements, expected at least 12 (why)".
  template <typename T>
  void atLeast(const View<T>& v, const char* name, int64_t expected, const std::string& why) const {
    if (v.size < expected) lengthFail(name, v.size, expected, "at least ", why);
  }
  template <typename T>
  void exactly(const View<T>& v, const char* name, int64_t expected, const std::string& why) const {
    if (v.size != expected) lengthFail(name, v.size, expected, "", why);
  }

  // a*b with overflow / kMaxSize check, naming what is being computed.
  int64_t mul(int64_t a, int64_t b, const char* what) const;

  // Reading an object field or array element can run JS (a getter, a proxy),
  // which could detach or shrink an array whose pointer we already hold.
  // Views handed out are remembered; settle() re-reads them all and fails if
  // any changed. Entry points call it after the last argument read, before
  // touching memory.
  void track(const Napi::Value& array, const void* data, int64_t size) const;
  void settle() const;

 private:
  [[noreturn]] void lengthFail(const char* name, int64_t got, int64_t expected, const char* qual,
                               const std::string& why) const;
  std::string describe(const Napi::Value& v) const;
  Napi::Value at(size_t i) const { return info_[i]; }

  struct Tracked {
    napi_value value;
    const void* data;
    int64_t size;
  };

  const Napi::CallbackInfo& info_;
  const char* kernel_;
  mutable std::vector<Tracked> tracked_;
};

// "[2,3,4]" for messages.
std::string shapeString(const std::vector<int64_t>& s);

// Product of a shape (caller validated dims, so no overflow beyond kMaxSize checks).
int64_t shapeSize(const Args& args, const std::vector<int64_t>& s, const char* what);

// Row-major strides of a shape.
std::vector<int64_t> stridesOf(const std::vector<int64_t>& shape);

// Grow-only per-thread scratch memory (never shrinks below use; freed at thread exit).
float* scratchFloats(int slot, size_t count);
double* scratchDoubles(size_t count);

}  // namespace axon
