// The LB server configured over SSH: its account name, its user data, its keys and the ssh
// command line (the server side, sclman-lb-apply, is exercised by test_lb_push.sh).
#include "cm/ssh.hpp"

#include "../state/temp_store.hpp"
#include "core/file.hpp"

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <sys/stat.h>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_ssh {

namespace fs = std::filesystem;

TEST_CASE("the LB server's account name is parsed, hostile names refused", "[ssh][parse]")
{
  for (const char* good : {"sclman", "root", "_lb", "lb-push_2", "a"}) {
    CAPTURE(good);
    CHECK(cm::parse_user_name(good).value() == good);
  }
  for (const char* bad : {"", "-oProxyCommand=sh", "0day", "Sclman", "sclman user", "a;b",
                          "user@host", "x\n", "$(id)", "../root", "abcdefghijklmnopqrstuvwxyz0123456"}) {
    CAPTURE(bad);
    const auto r = cm::parse_user_name(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == core::ErrorKind::config);
  }
}

TEST_CASE("the LB server's user data authorizes sclman's key for sclman-lb-apply alone",
          "[ssh]")
{
  cm::LbKeys keys;
  keys.client_public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIClient";
  keys.host_public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost";
  keys.host_private =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----\n";
  const auto text = cm::render_lb_server_user_data("shop-lb-1", "shop", "sclman", 8080, keys);
  CHECK(text.rfind("#cloud-config\n", 0) == 0);
  const auto doc = YAML::Load(text);
  CHECK(doc["ssh_keys"]["ed25519_private"].as<std::string>() == keys.host_private);
  CHECK(doc["ssh_keys"]["ed25519_public"].as<std::string>() == keys.host_public);
  CHECK(doc["ssh_genkeytypes"].size() == 0);
  const auto user = doc["users"][1];
  CHECK(user["name"].as<std::string>() == "sclman");
  CHECK(user["lock_passwd"].as<bool>());
  CHECK(user["sudo"].as<std::string>() == "ALL=(root) NOPASSWD: /usr/local/sbin/sclman-lb-apply");
  REQUIRE(user["ssh_authorized_keys"].size() == 1);
  CHECK(user["ssh_authorized_keys"][0].as<std::string>()
        == "restrict,command=\"/usr/local/sbin/sclman-lb-apply\" " + keys.client_public
             + " sclman@shop");
  const auto files = doc["write_files"];
  REQUIRE(files.size() == 3);
  CHECK(files[0]["path"].as<std::string>() == "/usr/local/sbin/sclman-lb-apply");
  CHECK(files[0]["permissions"].as<std::string>() == "0755");
  CHECK(files[0]["content"].as<std::string>() == cm::lb_apply_script());
  CHECK(cm::lb_apply_script().rfind("#!/bin/sh\n", 0) == 0);
  CHECK(files[1]["path"].as<std::string>() == "/etc/nginx/sclman/upstream.conf");
  CHECK(files[1]["content"].as<std::string>().find("server 127.0.0.1:9 down;")
        != std::string::npos);
  const auto block = files[2]["content"].as<std::string>();
  CHECK(block.find("include /etc/nginx/sclman/upstream.conf;") != std::string::npos);
  CHECK(block.find("listen 8080 default_server;") != std::string::npos);
  CHECK(block.find("location = /nginx_status") != std::string::npos);
}

TEST_CASE("an LB server's keys are made once, read back as hostile and forgotten", "[ssh]")
{
  state_test::TempDir root;
  cm::SshChannel channel(cm::SshConfig{}, root.path.string());
  const auto keys = channel.keys("shop-lb-1");
  REQUIRE(keys);
  CHECK(keys->client_public.rfind("ssh-ed25519 AAAA", 0) == 0);
  CHECK(keys->host_private.rfind("-----BEGIN OPENSSH PRIVATE KEY-----\n", 0) == 0);
  const auto dir = root.path / "shop-lb-1" / "ssh";
  struct stat st{};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(core::read_file((dir / "known_hosts").string()).value() == "shop-lb-1 " + keys->host_public + "\n");
  // The same keys the next time: a server already booted with them keeps working.
  const auto again = channel.keys("shop-lb-1");
  REQUIRE(again);
  CHECK(again->client_public == keys->client_public);
  CHECK(again->host_private == keys->host_private);
  // A key file edited into something else is refused, not pasted into user data.
  for (const char* hostile : {"ssh-ed25519 AAAA\"\nruncmd: [sh]", "ssh-rsa AAAAB3Nza", "",
                              "ssh-ed25519 AAAA$(id)"}) {
    CAPTURE(hostile);
    REQUIRE(core::write_file_atomic((dir / "id_ed25519.pub").string(), hostile));
    const auto r = channel.keys("shop-lb-1");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == core::ErrorKind::state);
  }
  REQUIRE(core::write_file_atomic((dir / "host_ed25519").string(),
                                  "-----BEGIN OPENSSH PRIVATE KEY-----\n#cloud-config\n"
                                  "-----END OPENSSH PRIVATE KEY-----\n"));
  REQUIRE(core::write_file_atomic((dir / "id_ed25519.pub").string(), keys->client_public));
  CHECK_FALSE(channel.keys("shop-lb-1"));
  REQUIRE(channel.forget("shop-lb-1"));
  CHECK_FALSE(fs::exists(root.path / "shop-lb-1"));
  CHECK(channel.forget("shop-lb-1"));  // absent is success
  // A name that is no instance name makes nothing outside the root.
  CHECK_FALSE(channel.keys("../etc"));
  CHECK_FALSE(channel.keys("shop-lb-1/../../x"));
}

TEST_CASE("ssh gets a parsed address and every option on its command line", "[ssh]")
{
  state_test::TempDir root;
  cm::SshConfig config;
  config.user = "sclman";
  config.port = 2222;
  config.timeout = 7;
  cm::SshChannel channel(config, root.path.string());
  const auto ip = core::IpAddress::parse("fd00::5").value();
  const auto argv = channel.command("shop-lb-1", ip, "apply");
  REQUIRE(argv);
  const auto dir = (root.path / "shop-lb-1" / "ssh").string();
  const std::vector<std::string> want = {
    "/usr/bin/ssh", "-F", "/dev/null", "-i", dir + "/id_ed25519", "-o", "IdentitiesOnly=yes",
    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
    "-o", "UserKnownHostsFile=" + dir + "/known_hosts", "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "HostKeyAlias=shop-lb-1", "-o", "ConnectTimeout=7", "-o", "ServerAliveInterval=5",
    "-o", "ServerAliveCountMax=2", "-o", "LogLevel=ERROR", "-p", "2222", "-l", "sclman", "--",
    "fd00::5", "apply"};
  CHECK(*argv == want);
  CHECK_FALSE(channel.command("shop-lb-1", ip, "apply; reboot"));
  // An address read back from the state is parsed before anything runs.
  for (const char* hostile : {"10.0.0.5:80 -oProxyCommand=sh", "-oProxyCommand=id:22",
                              "lb.example.com:80", "10.0.0.5", ""}) {
    CAPTURE(hostile);
    core::InstanceRef lb{"shop", "shop-lb-1", core::Role::lb, hostile, "id"};
    const auto r = channel.request(lb, "show");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == core::ErrorKind::usage);
  }
  // A state directory whose path ssh would split is refused.
  state_test::TempDir other;
  const auto spaced = other.path / "state dir";
  fs::create_directories(spaced);
  cm::SshChannel split(config, spaced.string());
  CHECK(split.command("shop-lb-1", ip, "show").error().kind == core::ErrorKind::config);
}

} // namespace unit_test_ssh
