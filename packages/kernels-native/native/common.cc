#include "common.h"

#include <cmath>
#include <memory>
#include <sstream>

namespace axon {

Args::Args(const Napi::CallbackInfo& info, const char* kernel, size_t minCount) : info_(info), kernel_(kernel) {
  if (info.Length() < minCount) {
    typeFail("expected " + std::to_string(minCount) + " arguments, got " + std::to_string(info.Length()));
  }
}

void Args::fail(const std::string& message) const {
  throw Napi::Error::New(env(), std::string(kernel_) + ": " + message);
}

void Args::typeFail(const std::string& message) const {
  throw Napi::TypeError::New(env(), std::string(kernel_) + ": " + message);
}

std::string Args::describe(const Napi::Value& v) const {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsNumber()) {
    std::ostringstream s;
    s << "the number " << v.As<Napi::Number>().DoubleValue();
    return s.str();
  }
  if (v.IsString()) return "a string";
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float32_array: return "a Float32Array";
      case napi_float64_array: return "a Float64Array";
      case napi_int32_array: return "an Int32Array";
      case napi_uint8_array: return "a Uint8Array";
      default: return "a typed array of another type";
    }
  }
  if (v.IsArray()) return "an array";
  if (v.IsFunction()) return "a function";
  if (v.IsObject()) return "an object";
  return "an unsupported value";
}

template <typename T>
static View<T> viewOf(const Napi::Value& v) {
  auto arr = v.As<Napi::TypedArrayOf<T>>();
  View<T> out;
  out.data = arr.Data();  // includes byteOffset
  out.size = static_cast<int64_t>(arr.ElementLength());
  out.present = true;
  return out;
}

F32 Args::f32(size_t i, const char* name) const {
  Napi::Value v = at(i);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    typeFail(std::string(name) + " must be a Float32Array, got " + describe(v));
  }
  F32 view = viewOf<float>(v);
  track(v, view.data, view.size);
  return view;
}

F32 Args::f32OrNull(size_t i, const char* name) const {
  Napi::Value v = at(i);
  if (v.IsNull() || v.IsUndefined()) return F32{};
  return f32(i, name);
}

I32 Args::i32(size_t i, const char* name) const {
  Napi::Value v = at(i);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    typeFail(std::string(name) + " must be an Int32Array, got " + describe(v));
  }
  I32 view = viewOf<int32_t>(v);
  track(v, view.data, view.size);
  return view;
}

void Args::track(const Napi::Value& array, const void* data, int64_t size) const {
  tracked_.push_back({static_cast<napi_value>(array), data, size});
}

void Args::settle() const {
  for (const Tracked& t : tracked_) {
    void* data = nullptr;
    size_t length = 0;
    if (napi_get_typedarray_info(env(), t.value, nullptr, &length, &data, nullptr, nullptr) != napi_ok ||
        data != t.data || static_cast<int64_t>(length) != t.size) {
      fail("an array argument was detached or resized while the other arguments were read");
    }
  }
}

double Args::number(size_t i, const char* name) const {
  Napi::Value v = at(i);
  if (!v.IsNumber()) typeFail(std::string(name) + " must be a number, got " + describe(v));
  return v.As<Napi::Number>().DoubleValue();
}

static bool isDim(double d) { return std::isfinite(d) && d >= 0 && d <= double(kMaxSize) && std::floor(d) == d; }

int64_t Args::dim(size_t i, const char* name) const {
  double d = number(i, name);
  if (!isDim(d)) {
    std::ostringstream s;
    s << name << " must be a non-negative integer, got " << d;
    fail(s.str());
  }
  return static_cast<int64_t>(d);
}

bool Args::flag(size_t i, const char* name) const {
  Napi::Value v = at(i);
  if (!v.IsBoolean()) typeFail(std::string(name) + " must be a boolean, got " + describe(v));
  return v.As<Napi::Boolean>().Value();
}

std::string Args::str(size_t i, const char* name) const {
  Napi::Value v = at(i);
  if (!v.IsString()) typeFail(std::string(name) + " must be a string, got " + describe(v));
  return v.As<Napi::String>().Utf8Value();
}

Napi::Array Args::array(size_t i, const char* name) const {
  Napi::Value v = at(i);
  if (!v.IsArray()) typeFail(std::string(name) + " must be an array, got " + describe(v));
  return v.As<Napi::Array>();
}

std::vector<int64_t> Args::dims(size_t i, const char* name) const {
  Napi::Array a = array(i, name);
  if (a.Length() > 64) fail(std::string(name) + " has rank " + std::to_string(a.Length()) + ", at most 64 is supported");
  return counts(i, name);
}

std::vector<int64_t> Args::counts(size_t i, const char* name) const {
  Napi::Array a = array(i, name);
  uint32_t n = a.Length();
  std::vector<int64_t> out(n);
  for (uint32_t j = 0; j < n; ++j) {
    Napi::Value e = a.Get(j);
    if (!e.IsNumber() || !isDim(e.As<Napi::Number>().DoubleValue())) {
      fail(std::string(name) + "[" + std::to_string(j) + "] must be a non-negative integer, got " + describe(e));
    }
    out[j] = static_cast<int64_t>(e.As<Napi::Number>().DoubleValue());
  }
  return out;
}

Napi::Object Args::object(size_t i, const char* name, bool optional) const {
  Napi::Value v = at(i);
  if (optional && (v.IsUndefined() || v.IsNull())) return Napi::Object::New(env());
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray()) {
    typeFail(std::string(name) + " must be an object, got " + describe(v));
  }
  return v.As<Napi::Object>();
}

double Args::numField(const Napi::Object& o, const char* key, const char* objName) const {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) typeFail(std::string(objName) + "." + key + " must be a number, got " + describe(v));
  return v.As<Napi::Number>().DoubleValue();
}

double Args::numFieldOr(const Napi::Object& o, const char* key, double fallback, bool* given) const {
  Napi::Value v = o.Get(key);
  if (given) *given = false;
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) typeFail(std::string("params.") + key + " must be a number, got " + describe(v));
  if (given) *given = true;
  return v.As<Napi::Number>().DoubleValue();
}

int64_t Args::dimField(const Napi::Object& o, const char* key, const char* objName) const {
  double d = numField(o, key, objName);
  if (!isDim(d)) {
    std::ostringstream s;
    s << objName << "." << key << " must be a non-negative integer, got " << d;
    fail(s.str());
  }
  return static_cast<int64_t>(d);
}

bool Args::flagField(const Napi::Object& o, const char* key, const char* objName) const {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) typeFail(std::string(objName) + "." + key + " must be a boolean, got " + describe(v));
  return v.As<Napi::Boolean>().Value();
}

void Args::lengthFail(const char* name, int64_t got, int64_t expected, const char* qual, const std::string& why) const {
  std::ostringstream s;
  s << name << " has " << got << " elements, expected " << qual << expected;
  if (!why.empty()) s << " (" << why << ")";
  fail(s.str());
}

int64_t Args::mul(int64_t a, int64_t b, const char* what) const {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || r > kMaxSize) fail(std::string(what) + " is too large");
  return r;
}

std::string shapeString(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

int64_t shapeSize(const Args& args, const std::vector<int64_t>& s, const char* what) {
  int64_t n = 1;
  for (int64_t d : s) n = args.mul(n, d, what);
  return n;
}

std::vector<int64_t> stridesOf(const std::vector<int64_t>& shape) {
  std::vector<int64_t> st(shape.size());
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    st[i] = acc;
    acc *= shape[i];
  }
  return st;
}

namespace {
struct Scratch {
  std::vector<float> floats[4];
  std::vector<double> doubles;
};
thread_local Scratch tScratch;
}  // namespace

float* scratchFloats(int slot, size_t count) {
  auto& v = tScratch.floats[slot];
  if (v.size() < count) v.resize(count);
  return v.data();
}

double* scratchDoubles(size_t count) {
  auto& v = tScratch.doubles;
  if (v.size() < count) v.resize(count);
  return v.data();
}

}  // namespace axon
