// The pages of sclman serve under /ui: server-rendered HTML that works without JavaScript. A
// person signs in with a token (sclman token create); the session is that token in an HttpOnly,
// SameSite=Strict cookie. Every form carries a CSRF field derived from the session's token
// (HMAC-SHA256), checked on each POST. Every value on a page is HTML-escaped.
#include "core/exit_code.hpp"
#include "core/log.hpp"
#include "core/names.hpp"
#include "core/time.hpp"
#include "report/dashboard.hpp"
#include "report/site.hpp"
#include "report/views.hpp"
#include "serve/routes.hpp"
#include "serve/token.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <variant>

namespace serve::detail {

namespace {

using Json = nlohmann::json;

constexpr std::string_view k_cookie = "sclman_session";
// A cluster page's charts span the last six hours (sclman report's default is a day).
constexpr core::Millis k_chart_window = 6 * 3'600'000;

std::string escape(std::string_view text)
{
  return report::html_escape(text);
}

std::string text_of(const Json& j)
{
  return j.is_string() ? j.get<std::string>() : j.is_null() ? std::string("-") : j.dump();
}

// The session's token from the Cookie header, if it has one of the shape tokens have.
std::optional<std::string> session_token(const Request& r)
{
  std::string_view rest = r.cookie;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    auto part = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') {
      part.remove_prefix(1);
    }
    if (part.starts_with(k_cookie) && part.size() > k_cookie.size()
        && part[k_cookie.size()] == '=') {
      const auto value = std::string(part.substr(k_cookie.size() + 1));
      if (bearer_token("Bearer " + value)) {
        return value;
      }
    }
  }
  return std::nullopt;
}

// The CSRF field of a session: HMAC-SHA256 of a fixed text, keyed by its token, in hex.
std::string csrf_of(const std::string& token)
{
  static constexpr std::string_view message = "sclman serve: csrf";
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned len = 0;
  HMAC(EVP_sha256(), token.data(), static_cast<int>(token.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &len);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += fmt::format("{:02x}", mac[i]);
  }
  return hex;
}

int hex_value(char c)
{
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Parse an application/x-www-form-urlencoded body; a bad escape or a field twice is an error.
core::Result<std::map<std::string, std::string>> parse_form(std::string_view body)
{
  std::map<std::string, std::string> out;
  const auto decode = [](std::string_view in) -> std::optional<std::string> {
    std::string s;
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '+') {
        s += ' ';
      } else if (in[i] == '%') {
        if (i + 2 >= in.size() + 0 || hex_value(in[i + 1]) < 0 || hex_value(in[i + 2]) < 0) {
          return std::nullopt;
        }
        s += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
        i += 2;
      } else {
        s += in[i];
      }
    }
    return s;
  };
  while (!body.empty()) {
    const auto amp = body.find('&');
    const auto pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const auto eq = pair.find('=');
    const auto key = decode(pair.substr(0, eq));
    const auto value = decode(eq == std::string_view::npos ? std::string_view()
                                                           : pair.substr(eq + 1));
    if (!key || !value || !out.emplace(*key, *value).second) {
      return core::fail(core::ErrorKind::usage, "the form is not well formed");
    }
  }
  return out;
}

Response page(int status, const std::string& title, const std::string& body,
              const std::string& user = {})
{
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.headers["Content-Security-Policy"] =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
  r.headers["X-Frame-Options"] = "DENY";
  r.headers["Referrer-Policy"] = "no-referrer";
  r.body = fmt::format(
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} - sclman</title>"
    "<style>body{{font-family:sans-serif;margin:2em;max-width:72em}}table{{border-collapse:"
    "collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}.error{{color:"
    "#a00}}.warning{{border:2px solid #b3261e;padding:.5em}}form.inline{{display:inline}}{}"
    "</style></head><body><header><a href=\"/ui/\">sclman"
    "</a>{}</header><h1>{}</h1>{}</body></html>",
    escape(title), report::chart_css(), user.empty() ? std::string() : " &middot; " + user,
    escape(title), body);
  return r;
}

Response redirect(const std::string& to)
{
  Response r;
  r.status = 303;
  r.content_type = "text/plain";
  r.headers["Location"] = to;
  return r;
}

// Who the session is: its token row and secret, or nothing.
struct Session
{
  state::Token token;
  std::string secret;
  std::string csrf;
};

core::Result<std::optional<Session>> session_of(Call& call)
{
  const auto secret = session_token(call.request);
  if (!secret) {
    return std::optional<Session>{};
  }
  TRY_ASSIGN(auto token, call.store->token_by_hash(token_hash(*secret)));
  if (!token) {
    return std::optional<Session>{};
  }
  call.audit_token = token->name;
  return std::optional<Session>{Session{std::move(*token), *secret, csrf_of(*secret)}};
}

std::string user_line(const Session& s)
{
  return fmt::format("{} ({}) <form class=\"inline\" method=\"post\" action=\"/ui/logout\">"
                     "<input type=\"hidden\" name=\"csrf\" value=\"{}\"><button>Sign out"
                     "</button></form>",
                     escape(s.token.name), state::to_string(s.token.role), s.csrf);
}

// Check a POST's session and CSRF field; the error page, or nothing when both are right.
core::Result<std::variant<Session, Response>> checked_post(Call& call,
                                                           std::map<std::string, std::string>& form)
{
  TRY_ASSIGN(auto session, session_of(call));
  if (!session) {
    call.audit_detail = "no session";
    return std::variant<Session, Response>(
      page(403, "Not signed in", "<p><a href=\"/ui/login\">Sign in</a> first.</p>"));
  }
  auto parsed = parse_form(call.request.body);
  if (!parsed) {
    return tl::make_unexpected(parsed.error());
  }
  form = std::move(*parsed);
  const auto csrf = form.find("csrf");
  if (csrf == form.end() || csrf->second.size() != session->csrf.size()
      || CRYPTO_memcmp(csrf->second.data(), session->csrf.data(), session->csrf.size()) != 0) {
    call.audit_detail = "CSRF check failed";
    return std::variant<Session, Response>(
      page(403, "Refused", "<p class=\"error\">This form did not come from a page of this "
                           "server (its CSRF field is missing or wrong). Nothing was done.</p>"));
  }
  return std::variant<Session, Response>(std::move(*session));
}

// Check a POST as checked_post does, and that the session's role is at least `role`.
core::Result<std::variant<Session, Response>> checked_action(Call& call,
                                                             std::map<std::string, std::string>& form,
                                                             state::TokenRole role)
{
  TRY_ASSIGN(auto checked, checked_post(call, form));
  if (auto* session = std::get_if<Session>(&checked);
      session && static_cast<int>(session->token.role) < static_cast<int>(role)) {
    call.audit_detail = fmt::format("role {} needs {}", state::to_string(session->token.role),
                                    state::to_string(role));
    return std::variant<Session, Response>(
      page(403, "Refused",
           fmt::format("<p class=\"error\">This needs a token of role {}.</p>",
                       state::to_string(role)),
           user_line(*session)));
  }
  if (auto* session = std::get_if<Session>(&checked)) {
    call.token = session->token;
  }
  return checked;
}

using Form = std::map<std::string, std::string>;
using Act = core::Result<Response> (*)(Call&, const Session&, const Form&);

// Return the handler of a form: it checks the session, its role (at least `role`) and the CSRF
// field (checked_action), then calls `act`.
Handler acting(state::TokenRole role, Act act)
{
  return [role, act](Call& call) -> core::Result<Response> {
    Form form;
    TRY_ASSIGN(auto checked, checked_action(call, form, role));
    if (auto* refused = std::get_if<Response>(&checked)) {
      return std::move(*refused);
    }
    return act(call, std::get<Session>(checked), form);
  };
}

core::Result<Response> get_root(Call&)
{
  return redirect("/ui/");
}

core::Result<Response> get_login(Call&)
{
  return page(200, "Sign in",
              "<form method=\"post\" action=\"/ui/login\"><p><label>Token <input type="
              "\"password\" name=\"token\" id=\"token\" autocomplete=\"off\" size=\"60\">"
              "</label></p><p><button id=\"sign-in\">Sign in</button></p></form><p>A token "
              "comes from <code>sclman token create NAME --role viewer|operator|admin</code>."
              "</p>");
}

core::Result<Response> post_login(Call& call)
{
  TRY_ASSIGN(const auto form, parse_form(call.request.body));
  const auto it = form.find("token");
  // bearer_token's answer points into its argument: that must outlive it.
  const auto header = "Bearer " + (it == form.end() ? std::string() : it->second);
  const auto bearer = bearer_token(header);
  std::optional<state::Token> token;
  if (bearer) {
    TRY_ASSIGN(token, call.store->token_by_hash(token_hash(*bearer)));
  }
  if (!token) {
    call.audit_detail = "sign-in refused";
    return page(401, "Sign in",
                "<p class=\"error\">That is not a valid token.</p><p><a href=\"/ui/login\">"
                "Try again</a></p>");
  }
  call.audit_token = token->name;
  call.audit_detail = "signed in";
  auto r = redirect("/ui/");
  r.headers["Set-Cookie"] = fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict{}", k_cookie,
                                        std::string(*bearer),
                                        call.api.options().tls ? "; Secure" : "");
  return r;
}

core::Result<Response> post_logout(Call& call, const Session&, const Form&)
{
  call.audit_detail = "signed out";
  auto r = redirect("/ui/login");
  r.headers["Set-Cookie"] = fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
                                        k_cookie);
  return r;
}

std::string create_form(const Session& session)
{
  if (session.token.role == state::TokenRole::viewer) {
    return {};
  }
  return fmt::format(
    "<h2>New cluster</h2><form method=\"post\" action=\"/ui/clusters\" id=\"create\">"
    "<input type=\"hidden\" name=\"csrf\" value=\"{}\"><label>Name <input name=\"name\" "
    "id=\"new-name\" pattern=\"[a-z][a-z0-9-]{{0,30}}\" required></label> <label>Web "
    "instances <input type=\"number\" name=\"web\" id=\"new-web\" min=\"1\" value=\"1\">"
    "</label> <label>Min <input type=\"number\" name=\"min\" id=\"new-min\" min=\"0\">"
    "</label> <label>Max <input type=\"number\" name=\"max\" id=\"new-max\" min=\"1\">"
    "</label> <button id=\"create-button\">Create</button></form>",
    session.csrf);
}

// Return the optional integer field `key` of a form ("" is absent); nothing in `bad` if fine.
std::optional<int> form_int(const std::map<std::string, std::string>& form, const char* key,
                            int lo, int hi, std::string& bad)
{
  const auto it = form.find(key);
  if (it == form.end() || it->second.empty()) {
    return std::nullopt;
  }
  auto v = core::parse_int_in(it->second, lo, hi);
  if (!v) {
    bad = fmt::format("{} must be an integer from {} to {}", key, lo, hi);
    return std::nullopt;
  }
  return *v;
}

// The notice of an action that ran now: what the command said, or its error.
std::string notice_of(Call& call, const core::Result<Json>& ran, const std::string& done)
{
  if (!ran) {
    call.audit_detail = ran.error().message;
    return fmt::format("<p class=\"error\" id=\"notice\">{} (exit {} as on the command line)"
                       "</p>",
                       escape(ran.error().message), core::to_exit_code(ran.error().kind));
  }
  call.audit_detail = done;
  return fmt::format("<p id=\"notice\">{}</p>", escape(done));
}

core::Result<Response> get_clusters(Call& call)
{
  TRY_ASSIGN(const auto session, session_of(call));
  if (!session) {
    return redirect("/ui/login");
  }
  TRY_ASSIGN(const auto clusters, call.store->clusters());
  std::string rows;
  for (const auto& c : clusters) {
    TRY_ASSIGN(const auto j, report::cluster_json(*call.store, c, false));
    const auto& last = j["last_decision"];
    rows += fmt::format(
      "<tr><td><a href=\"/ui/clusters/{0}\">{0}</a></td><td>{1}</td><td class=\"size\">{2}</td>"
      "<td>{3}</td><td>{4}&ndash;{5}</td><td>{6}</td><td>{7}</td></tr>",
      escape(c.name), escape(state::to_string(c.status)), j["size"].get<int>(),
      j["desired"].get<int>(), j["min"].get<int>(), j["max"].get<int>(),
      escape(text_of(j["policy"].value("kind", Json(j["policy"].value("preset", Json("-")))))),
      last.is_null() ? std::string("-")
                     : escape(fmt::format("{} {}->{} ({}, {})", text_of(last["action"]),
                                          last["from"].get<int>(), last["to"].get<int>(),
                                          text_of(last["status"]), text_of(last["reason"]))));
  }
  // The chain runs each minute (cron/sclman-chain).
  const auto now = call.store->now();
  TRY_ASSIGN(const auto chain, report::store_chain_health(*call.store, now, 60'000));
  return page(200, "Clusters",
              report::render_chain(chain, now)
                + "<table id=\"clusters\"><tr><th>Cluster</th><th>Status</th><th>In service</th>"
                  "<th>Desired</th><th>Min&ndash;max</th><th>Policy</th><th>Last decision</th></tr>"
                + rows + "</table>" + create_form(*session),
              user_line(*session));
}

// What a cluster's page shows beyond its status: its dashboard view and the charts' span.
struct Charts
{
  report::ClusterView view;
  core::Millis from = 0;
  core::Millis now = 0;
};

// Return member `name`'s load at the cluster's last poll, as the page shows it.
std::string load_of(const report::ClusterView& view, const std::string& name)
{
  for (const auto& m : view.members) {
    if (m.name == name && m.load) {
      return fmt::format("{:.2f}", *m.load);
    }
  }
  return "-";
}

std::string cluster_body(const Json& j, const Session& session,
                         const std::vector<state::DecisionRow>& decisions, const Charts& charts,
                         const std::string& notice)
{
  const auto name = j["name"].get<std::string>();
  std::string out = notice;
  out += fmt::format("<p>Status {}; <span id=\"size\">{}</span> in service of <span id="
                     "\"desired\">{}</span> desired (min {}, max {}); LB {}.</p>",
                     escape(text_of(j["status"])), j["size"].get<int>(),
                     j["desired"].get<int>(), j["min"].get<int>(), j["max"].get<int>(),
                     escape(text_of(j["lb_address"])));
  if (const auto r = j.value("rollout", Json(nullptr)); !r.is_null()) {
    out += fmt::format("<p id=\"rollout\">Rollout {} <b class=\"rollout-status\">{}</b>{}: image "
                       "{}, flavor {}; {} of {} left{}.</p>",
                       r["id"].get<std::int64_t>(), escape(text_of(r["status"])),
                       r.value("instance", Json(nullptr)).is_null()
                         ? std::string()
                         : " of " + escape(text_of(r["instance"])),
                       escape(text_of(r["to"]["image"])), escape(text_of(r["to"]["flavor"])),
                       r["left"].get<int>(), r["total"].get<int>(),
                       r["error"].is_null() ? std::string() : ": " + escape(text_of(r["error"])));
  }
  out += "<div id=\"charts\">" + report::render_cluster_charts(charts.view, charts.from, charts.now)
         + "</div>";
  const bool acts = session.token.role != state::TokenRole::viewer;
  out += "<h2>Members</h2><table id=\"members\"><tr><th>Name</th><th>Role</th><th>State</th>"
         "<th>Health</th><th>Age</th><th>Load</th><th>Address</th><th></th></tr>";
  for (const auto& i : j["instances"]) {
    const auto state = text_of(i["state"]);
    std::string remove;
    if (acts && text_of(i["role"]) == "web" && (state == "in_service" || state == "requested"
                                                || state == "building" || state == "active"
                                                || state == "bootstrapping")) {
      remove = fmt::format(
        "<form class=\"inline\" method=\"post\" action=\"/ui/clusters/{}/remove\"><input "
        "type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"instance\" "
        "value=\"{}\"><button class=\"remove\">Remove (drain first)</button></form>",
        escape(name), session.csrf, escape(text_of(i["name"])));
    }
    if (acts && text_of(i["role"]) == "web" && state == "in_service"
        && !i.value("protected", false)) {
      remove += fmt::format(
        " <form class=\"inline\" method=\"post\" action=\"/ui/clusters/{}/replace\"><input "
        "type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"instance\" "
        "value=\"{}\"><button class=\"replace\">Replace (new one first)</button></form>",
        escape(name), session.csrf, escape(text_of(i["name"])));
    }
    out += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"state\">{}</td><td>{}</td>"
                       "<td>{}</td><td class=\"load\">{}</td><td>{}</td><td>{}</td></tr>",
                       escape(text_of(i["name"])), escape(text_of(i["role"])), escape(state),
                       i["unhealthy_since"].is_null() ? "ok" : "unhealthy",
                       escape(core::human_age(i["age_seconds"].get<std::int64_t>() * 1000)),
                       load_of(charts.view, text_of(i["name"])), escape(text_of(i["address"])),
                       remove);
  }
  out += "</table>";
  if (session.token.role != state::TokenRole::viewer) {
    out += fmt::format(
      "<h2>Resize</h2><form method=\"post\" action=\"/ui/clusters/{0}/resize\" id=\"resize\">"
      "<input type=\"hidden\" name=\"csrf\" value=\"{1}\"><label>Size <input type=\"number\" "
      "name=\"to\" id=\"to\" min=\"{2}\" max=\"{3}\" value=\"{4}\"></label> <label><input "
      "type=\"checkbox\" name=\"now\" value=\"1\" id=\"now\"> now (else the next tick of the "
      "chain)</label> <button id=\"resize-button\">Resize</button></form>",
      escape(name), session.csrf, j["min"].get<int>(), j["max"].get<int>(),
      j["desired"].get<int>());
  }
  if (session.token.role != state::TokenRole::viewer) {
    out += fmt::format(
      "<h2>Policy</h2><form method=\"post\" action=\"/ui/clusters/{0}/policy\" id=\"policy\">"
      "<input type=\"hidden\" name=\"csrf\" value=\"{1}\"><label>Preset <input name=\"policy\""
      " id=\"preset\" placeholder=\"{2}\"></label> <label>Min <input type=\"number\" name="
      "\"min\" id=\"policy-min\" value=\"{3}\"></label> <label>Max <input type=\"number\" "
      "name=\"max\" id=\"policy-max\" value=\"{4}\"></label> <button id=\"policy-button\">"
      "Change</button></form>",
      escape(name), session.csrf,
      escape(text_of(j["policy"].value("kind", Json(j["policy"].value("preset", Json("")))))),
      j["min"].get<int>(), j["max"].get<int>());
  }
  if (session.token.role == state::TokenRole::admin) {
    out += fmt::format(
      "<h2>Delete</h2><form method=\"post\" action=\"/ui/clusters/{0}/delete\" id=\"delete\">"
      "<input type=\"hidden\" name=\"csrf\" value=\"{1}\"><label>Type the cluster's name, "
      "<b>{0}</b>, to delete it and every instance <input name=\"confirm\" id=\"confirm\" "
      "autocomplete=\"off\"></label> <button id=\"delete-button\">Delete {0}</button></form>",
      escape(name), session.csrf);
  }
  out += fmt::format("<h2>Decisions</h2><p><a href=\"/ui/clusters/{}/why\">why</a></p>"
                     "<table id=\"decisions\"><tr><th>Time</th><th>Action</th><th>Size"
                     "</th><th>Status</th><th>Source</th><th>Reason</th></tr>",
                     escape(name));
  for (const auto& d : decisions) {
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}&rarr;{}</td><td>{}</td><td>{}</td>"
                       "<td>{}</td></tr>",
                       escape(core::iso8601_utc(d.ts)), escape(policy::to_string(d.action)),
                       d.from_size, d.to_size, escape(state::to_string(d.status)),
                       escape(d.source), escape(d.error.empty() ? d.reason : d.error));
  }
  return out + "</table>";
}

core::Result<Response> show_cluster(Call& call, const Session& session, int status,
                                    const std::string& notice)
{
  TRY_ASSIGN(const auto c, call.cluster());
  TRY_ASSIGN(const auto j, report::cluster_json(*call.store, c, false));
  TRY_ASSIGN(const auto decisions, call.store->decisions(c.id, 10));
  // The static dashboard's charts, as of this request.
  report::SiteOptions o;
  o.window = k_chart_window;
  Charts charts;
  charts.now = call.store->now();
  TRY_ASSIGN(charts.view, report::cluster_view(*call.store, c, j, charts.now, o));
  charts.from = report::charts_from({charts.view}, charts.now, o.window);
  return page(status, c.name, cluster_body(j, session, decisions, charts, notice),
              user_line(session));
}

core::Result<Response> get_cluster_page(Call& call)
{
  TRY_ASSIGN(const auto session, session_of(call));
  if (!session) {
    return redirect("/ui/login");
  }
  auto shown = show_cluster(call, *session, 200, "");
  if (!shown && call.status == 404) {
    return page(404, "No such cluster", "<p><a href=\"/ui/\">All clusters</a></p>",
                user_line(*session));
  }
  return shown;
}

// The cluster's last decisions as `why --json` gives them.
core::Result<Response> get_why(Call& call)
{
  TRY_ASSIGN(const auto session, session_of(call));
  if (!session) {
    return redirect("/ui/login");
  }
  TRY_ASSIGN(const auto c, call.cluster());
  TRY_ASSIGN(const auto rows, call.store->decisions(c.id, 10));
  TRY_ASSIGN(const auto victims, call.store->victims(c.id, 10));
  return page(200, "Why: " + c.name,
              fmt::format("<p><a href=\"/ui/clusters/{0}\">{0}</a></p><pre id=\"why\">{1}</pre>",
                          escape(c.name),
                          escape(report::decisions_json(c, rows, victims).dump(2))),
              user_line(*session));
}

core::Result<Response> post_resize(Call& call, const Session& session, const Form& form)
{
  TRY_ASSIGN(const auto c, call.cluster());
  const auto to = form.find("to");
  auto size = to == form.end() ? core::Result<int>(core::fail(core::ErrorKind::usage, "no size"))
                               : core::parse_int_in(to->second, 0, 10000);
  const bool now = form.count("now") && form.at("now") == "1";
  std::string notice;
  int status = 200;
  if (!size) {
    status = 400;
    notice = "<p class=\"error\" id=\"notice\">The size must be an integer from 0 to 10000.</p>";
  } else {
    auto done = resize_cluster(call, c, *size, now);
    if (!done) {
      status = call.status ? call.status : http_status(done.error().kind);
      notice = fmt::format("<p class=\"error\" id=\"notice\">{} (exit {} as on the command "
                           "line)</p>",
                           escape(done.error().message), core::to_exit_code(done.error().kind));
      call.audit_detail = done.error().message;
    } else {
      const auto j = Json::parse(done->body);
      const auto& d = j["decision"];
      notice = d.is_null()
                 ? fmt::format("<p id=\"notice\">{}</p>", escape(text_of(j["message"])))
                 : fmt::format("<p id=\"notice\">Decision {}: {} {}&rarr;{}, {}. <a href=\"/ui/"
                               "clusters/{}/why\">why</a></p>",
                               d["id"].get<std::int64_t>(), escape(text_of(d["action"])),
                               d["from"].get<int>(), d["to"].get<int>(),
                               escape(text_of(d["status"])), escape(c.name));
    }
  }
  // What changed is shown on the cluster's page, read again.
  return show_cluster(call, session, status, notice);
}

core::Result<Response> post_create(Call& call, const Session& session, const Form& form)
{
  CreateSpec spec;
  spec.name = form.count("name") ? form.at("name") : std::string();
  std::string bad;
  const auto web = form_int(form, "web", 1, 1000, bad);
  spec.min = form_int(form, "min", 0, 10000, bad);
  spec.max = form_int(form, "max", 1, 10000, bad);
  if (auto valid = core::validate_cluster_name(spec.name); !valid) {
    bad = valid.error().message;
  } else if (!web && bad.empty()) {
    bad = "web must be an integer from 1 to 1000";
  }
  core::Result<Json> ran = core::fail(core::ErrorKind::usage, bad);
  if (bad.empty()) {
    spec.web = *web;
    const auto& now = call.api.options().actions.create_now;
    ran = now ? now(spec) : core::Result<Json>(core::fail(core::ErrorKind::internal,
                                                          "this server cannot create clusters"));
  }
  const auto notice = notice_of(call, ran, fmt::format("created cluster '{}'", spec.name));
  if (!ran) {
    return page(http_status(ran.error().kind), "Clusters",
                notice + "<p><a href=\"/ui/\">All clusters</a></p>" + create_form(session),
                user_line(session));
  }
  call.params = {spec.name};
  return show_cluster(call, session, 200, notice);
}

core::Result<Response> post_policy(Call& call, const Session& session, const Form& form)
{
  TRY_ASSIGN(const auto c, call.cluster());
  PolicySpec spec;
  std::string bad;
  spec.policy = form.count("policy") ? form.at("policy") : std::string();
  if (!core::is_printable(spec.policy, 40)) {
    bad = "the preset is not a preset's name";
  }
  spec.min = form_int(form, "min", 0, 10000, bad);
  spec.max = form_int(form, "max", 1, 10000, bad);
  core::Result<Json> ran = core::fail(core::ErrorKind::usage, bad);
  if (bad.empty()) {
    const auto& now = call.api.options().actions.set_policy_now;
    ran = now ? now(c.name, spec)
              : core::Result<Json>(core::fail(core::ErrorKind::internal,
                                              "this server cannot change policies"));
  }
  const auto changed = ran && ran->value("changed", false);
  const auto notice = notice_of(call, ran, changed ? "policy changed" : "policy unchanged");
  return show_cluster(call, session, ran ? 200 : http_status(ran.error().kind), notice);
}

core::Result<Response> post_delete(Call& call, const Session& session, const Form& form)
{
  TRY_ASSIGN(const auto c, call.cluster());
  if (!form.count("confirm") || form.at("confirm") != c.name) {
    call.audit_detail = "delete not confirmed";
    return show_cluster(call, session, 400,
                        fmt::format("<p class=\"error\" id=\"notice\">Type the cluster's name, "
                                    "{}, to delete it. Nothing was done.</p>",
                                    escape(c.name)));
  }
  const auto& now = call.api.options().actions.delete_now;
  const auto ran = now ? now(c.name)
                       : core::Result<Json>(core::fail(core::ErrorKind::internal,
                                                       "this server cannot delete clusters"));
  const auto notice = notice_of(call, ran, fmt::format("deleted cluster '{}'", c.name));
  if (!ran) {
    return show_cluster(call, session, http_status(ran.error().kind), notice);
  }
  return page(200, "Clusters", notice + "<p><a href=\"/ui/\">All clusters</a></p>",
              user_line(session));
}

// A member's button (Remove, Replace): `act` on the form's instance as the API does; the page
// again with what came of it, `done(cluster, instance)` when it succeeded.
template <class Act, class Done>
core::Result<Response> member_action(Call& call, const Session& session, const Form& form,
                                     Act act, Done done_notice)
{
  TRY_ASSIGN(const auto c, call.cluster());
  const auto instance = form.count("instance") ? form.at("instance") : std::string();
  core::Result<Response> done = core::fail(core::ErrorKind::usage, "no such instance");
  if (core::validate_instance_name(instance)) {
    done = act(call, c, instance);
  }
  std::string notice;
  if (!done) {
    call.audit_detail = done.error().message;
    notice = fmt::format("<p class=\"error\" id=\"notice\">{} (exit {} as on the command "
                         "line)</p>",
                         escape(done.error().message), core::to_exit_code(done.error().kind));
  } else {
    notice = done_notice(c, instance);
  }
  return show_cluster(call, session,
                      done ? 200 : (call.status ? call.status : http_status(done.error().kind)),
                      notice);
}

core::Result<Response> post_remove_page(Call& call, const Session& session, const Form& form)
{
  return member_action(call, session, form, remove_instance,
                       [](const state::Cluster& c, const std::string& instance) {
                         return fmt::format("<p id=\"notice\">Removing {}: draining, desired {}. "
                                            "<a href=\"/ui/clusters/{}/why\">why</a></p>",
                                            escape(instance), c.desired - 1, escape(c.name));
                       });
}

core::Result<Response> post_replace_page(Call& call, const Session& session, const Form& form)
{
  return member_action(call, session, form, replace_instance,
                       [](const state::Cluster&, const std::string& instance) {
                         return fmt::format("<p id=\"notice\">Replacing {}: its replacement "
                                            "boots; once it is in service {} drains. The chain "
                                            "carries it on; the rollout shows below.</p>",
                                            escape(instance), escape(instance));
                       });
}

} // namespace

std::vector<Route> ui_routes()
{
  return {
    {{"GET", "/", Need::session}, false, get_root},
    {{"GET", "/ui/login", Need::session}, false, get_login},
    {{"POST", "/ui/login", Need::session}, true, post_login},
    {{"POST", "/ui/logout", Need::session},
     true,
     acting(state::TokenRole::viewer, post_logout)},
    {{"GET", "/ui/", Need::session}, false, get_clusters},
    {{"GET", "/ui/clusters/{name}", Need::session}, false, get_cluster_page},
    {{"GET", "/ui/clusters/{name}/why", Need::session}, false, get_why},
    {{"POST", "/ui/clusters/{name}/resize", Need::session},
     true,
     acting(state::TokenRole::operator_, post_resize)},
    {{"POST", "/ui/clusters", Need::session},
     true,
     acting(state::TokenRole::operator_, post_create)},
    {{"POST", "/ui/clusters/{name}/policy", Need::session},
     true,
     acting(state::TokenRole::operator_, post_policy)},
    {{"POST", "/ui/clusters/{name}/delete", Need::session},
     true,
     acting(state::TokenRole::admin, post_delete)},
    {{"POST", "/ui/clusters/{name}/remove", Need::session},
     true,
     acting(state::TokenRole::operator_, post_remove_page)},
    {{"POST", "/ui/clusters/{name}/replace", Need::session},
     true,
     acting(state::TokenRole::operator_, post_replace_page)},
  };
}

} // namespace serve::detail
