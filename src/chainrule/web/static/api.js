// Talking to the hiker's JSON API: one function per endpoint, errors as ApiError.

export class ApiError extends Error {
  // status: the HTTP status (0 when the server could not be reached); detail: the body's "detail"
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

function describe(status, detail) {
  if (typeof detail === "string") return detail;
  if (detail && typeof detail.message === "string") return detail.message;
  if (Array.isArray(detail) && detail.length) {
    // pydantic's 422: [{loc: ["body", "start"], msg: "..."}]
    return detail
      .map((d) => `${(d.loc || []).filter((p) => p !== "body").join(".")}: ${d.msg}`)
      .join("; ");
  }
  return `the server answered ${status}`;
}

async function request(path, body, signal) {
  const init = body === undefined
    ? { signal }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal };
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "the hiker's server cannot be reached (is `chainrule hiker` still running?)");
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    // a body that is not JSON: the status says enough
  }
  if (!response.ok) {
    const detail = payload ? payload.detail : undefined;
    throw new ApiError(response.status, describe(response.status, detail), detail);
  }
  return payload;
}

export const api = {
  surfaces: () => request("/api/surfaces"),
  optimizers: () => request("/api/optimizers"),
  grid: (body, signal) => request("/api/grid", body, signal),
  trajectories: (body, signal) => request("/api/trajectories", body, signal),
  explain: (body, signal) => request("/api/explain", body, signal),
};
