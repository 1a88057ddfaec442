// @axon/distributed: the MPI binding. A small Node-API surface over Open MPI (any MPI-3 library):
// init/rank/size/barrier/finalize/abort, in-place float32 allReduce and broadcast, and an
// asynchronous all-reduce that runs on a communication thread, so a training step can sum one
// bucket of gradients while the backward pass computes the next (as PyTorch DDP does).
//
// Threading: MPI runs at MPI_THREAD_SERIALIZED. The main thread calls MPI only while the
// communication thread is idle (every blocking call first waits for the queue to drain), so no two
// threads are ever inside MPI at once.
#include <dlfcn.h>
#include <mpi.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include <napi.h>

namespace {

std::string errorString(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) return "error code " + std::to_string(rc);
  return std::string(text, len);
}

struct Job {
  float* data;
  int64_t count;
  MPI_Op op;
  int64_t id;
};

class Comm {
 public:
  void start() { worker_ = std::thread([this] { run(); }); }

  int64_t submit(float* data, int64_t count, MPI_Op op) {
    std::lock_guard<std::mutex> lock(mutex_);
    const int64_t id = ++submitted_;
    jobs_.push_back({data, count, op, id});
    wake_.notify_all();
    return id;
  }

  // Waits for job `id` (or every job when id <= 0); returns the first MPI error seen, or "".
  std::string wait(int64_t id) {
    std::unique_lock<std::mutex> lock(mutex_);
    const int64_t target = id > 0 ? id : submitted_;
    done_cv_.wait(lock, [&] { return completed_ >= target; });
    std::string e = error_;
    error_.clear();
    return e;
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      wake_.notify_all();
    }
    if (worker_.joinable()) worker_.join();
  }

 private:
  void run() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = jobs_.front();
        jobs_.pop_front();
      }
      std::string err;
      // MPI counts are int: large buffers go in chunks.
      const int64_t chunk = int64_t(1) << 30;
      for (int64_t off = 0; off < job.count && err.empty(); off += chunk) {
        const int n = static_cast<int>(std::min(chunk, job.count - off));
        const int rc = MPI_Allreduce(MPI_IN_PLACE, job.data + off, n, MPI_FLOAT, job.op, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) err = "MPI_Allreduce failed: " + errorString(rc);
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (!err.empty() && error_.empty()) error_ = err;
      completed_ = job.id;
      done_cv_.notify_all();
    }
  }

  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable wake_, done_cv_;
  std::deque<Job> jobs_;
  int64_t submitted_ = 0, completed_ = 0;
  bool stopping_ = false;
  std::string error_;
};

Comm* comm = nullptr;
bool finalized = false;

bool isInitialized() {
  int flag = 0;
  MPI_Initialized(&flag);
  return flag != 0;
}

void requireActive(const Napi::Env& env, const char* fn) {
  if (finalized) throw Napi::Error::New(env, std::string(fn) + ": MPI was finalized in this process");
  if (!isInitialized()) throw Napi::Error::New(env, std::string(fn) + ": call init() first");
}

Napi::Float32Array floatArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": argument " + std::to_string(i) + " must be a Float32Array");
  return info[i].As<Napi::Float32Array>();
}

MPI_Op opArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const std::string op = info.Length() > i && info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : "sum";
  if (op == "sum") return MPI_SUM;
  if (op == "max") return MPI_MAX;
  if (op == "min") return MPI_MIN;
  throw Napi::TypeError::New(info.Env(), std::string(fn) + ": op must be 'sum', 'max' or 'min', got '" + op + "'");
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (finalized) throw Napi::Error::New(env, "init: MPI was finalized in this process and cannot start again");
  if (!isInitialized()) {
    // Node loads addons with RTLD_LOCAL; Open MPI's plug-ins look libmpi's symbols up globally.
    Dl_info where;
    if (dladdr(reinterpret_cast<void*>(&MPI_Init), &where) && where.dli_fname) dlopen(where.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    int provided = 0;
    const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) throw Napi::Error::New(env, "init: MPI_Init_thread failed with code " + std::to_string(rc));
    if (provided < MPI_THREAD_SERIALIZED) throw Napi::Error::New(env, "init: this MPI does not support MPI_THREAD_SERIALIZED");
    // Errors come back as codes we turn into exceptions, not as an abort inside MPI.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    comm = new Comm();
    comm->start();
  }
  return env.Undefined();
}

Napi::Value Rank(const Napi::CallbackInfo& info) {
  requireActive(info.Env(), "rank");
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return Napi::Number::New(info.Env(), r);
}

Napi::Value Size(const Napi::CallbackInfo& info) {
  requireActive(info.Env(), "size");
  int s = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return Napi::Number::New(info.Env(), s);
}

void drain(const Napi::Env& env, const char* fn) {
  const std::string e = comm->wait(0);
  if (!e.empty()) throw Napi::Error::New(env, std::string(fn) + ": an earlier asynchronous all-reduce failed: " + e);
}

Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  requireActive(info.Env(), "allReduce");
  auto a = floatArg(info, 0, "allReduce");
  const MPI_Op op = opArg(info, 1, "allReduce");
  drain(info.Env(), "allReduce");
  comm->submit(a.Data(), static_cast<int64_t>(a.ElementLength()), op);
  const std::string e = comm->wait(0);
  if (!e.empty()) throw Napi::Error::New(info.Env(), "allReduce: " + e);
  return info.Env().Undefined();
}

// Starts a sum on the communication thread and returns its id; the array must not be touched
// (read or written) until wait(id) returns. The JS side keeps it referenced until then.
Napi::Value AllReduceStart(const Napi::CallbackInfo& info) {
  requireActive(info.Env(), "allReduceAsync");
  auto a = floatArg(info, 0, "allReduceAsync");
  const MPI_Op op = opArg(info, 1, "allReduceAsync");
  return Napi::Number::New(info.Env(), static_cast<double>(comm->submit(a.Data(), static_cast<int64_t>(a.ElementLength()), op)));
}

Napi::Value Wait(const Napi::CallbackInfo& info) {
  requireActive(info.Env(), "wait");
  const int64_t id = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int64Value() : 0;
  const std::string e = comm->wait(id);
  if (!e.empty()) throw Napi::Error::New(info.Env(), "wait: " + e);
  return info.Env().Undefined();
}

Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  requireActive(info.Env(), "broadcast");
  auto a = floatArg(info, 0, "broadcast");
  const int root = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (root < 0 || root >= size)
    throw Napi::RangeError::New(info.Env(), "broadcast: root must be a rank in [0, " + std::to_string(size) + "), got " + std::to_string(root));
  drain(info.Env(), "broadcast");
  const int64_t count = static_cast<int64_t>(a.ElementLength());
  const int64_t chunk = int64_t(1) << 30;
  for (int64_t off = 0; off < count; off += chunk) {
    const int rc = MPI_Bcast(a.Data() + off, static_cast<int>(std::min(chunk, count - off)), MPI_FLOAT, root, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) throw Napi::Error::New(info.Env(), "broadcast: MPI_Bcast failed with code " + std::to_string(rc));
  }
  return info.Env().Undefined();
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  requireActive(info.Env(), "barrier");
  drain(info.Env(), "barrier");
  const int rc = MPI_Barrier(MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) throw Napi::Error::New(info.Env(), "barrier: MPI_Barrier failed with code " + std::to_string(rc));
  return info.Env().Undefined();
}

Napi::Value Abort(const Napi::CallbackInfo& info) {
  const int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  if (isInitialized() && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
  return info.Env().Undefined();
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  if (isInitialized() && !finalized) {
    drain(info.Env(), "finalize");
    comm->stop();
    MPI_Finalize();
    finalized = true;
  }
  return info.Env().Undefined();
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(version, &len);
  return Napi::String::New(info.Env(), std::string(version, len));
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("rank", Napi::Function::New(env, Rank));
  exports.Set("size", Napi::Function::New(env, Size));
  exports.Set("allReduce", Napi::Function::New(env, AllReduce));
  exports.Set("allReduceStart", Napi::Function::New(env, AllReduceStart));
  exports.Set("wait", Napi::Function::New(env, Wait));
  exports.Set("broadcast", Napi::Function::New(env, Broadcast));
  exports.Set("barrier", Napi::Function::New(env, Barrier));
  exports.Set("abort", Napi::Function::New(env, Abort));
  exports.Set("finalize", Napi::Function::New(env, Finalize));
  exports.Set("libraryVersion", Napi::Function::New(env, Version));
  return exports;
}

}  // namespace

NODE_API_MODULE(axon_mpi, Register)
