// The fused recurrent kernels (recurrent.cc): lstmForward/Backward,
// gruForward/Backward, simpleRnnForward/Backward, registered on the addon's
// exports by registerRecurrentKernels.
#pragma once

#include <napi.h>

namespace axon {

Napi::Value LstmForward(const Napi::CallbackInfo& info);
Napi::Value LstmBackward(const Napi::CallbackInfo& info);
Napi::Value GruForward(const Napi::CallbackInfo& info);
Napi::Value GruBackward(const Napi::CallbackInfo& info);
Napi::Value SimpleRnnForward(const Napi::CallbackInfo& info);
Napi::Value SimpleRnnBackward(const Napi::CallbackInfo& info);

void registerRecurrentKernels(Napi::Env env, Napi::Object exports);

}  // namespace axon
