#!/usr/bin/python3
"""Admin and demo calls the OpenStack tests make besides sclman: set up the demo project,
flavor, image and network; list, create and delete servers; set quotas; Octavia's user, role
and endpoint.
Usage: openstack_api.py KEYSTONE_URL COMMAND [ARGS]. Loopback only."""
import json
import sys
import time

from keystoneauth1 import session
from keystoneauth1.identity import v3

ADMIN_PW = 'admin-secret'
DEMO_PW = 'demo-secret'
MV = {'OpenStack-API-Version': 'compute 2.52'}


def sess(url, user='admin', password=ADMIN_PW, project='admin'):
    auth = v3.Password(auth_url=url + '/v3', username=user, password=password,
                       project_name=project, user_domain_name='Default',
                       project_domain_name='Default')
    return RetryingSession(auth=auth)


class RetryingSession(session.Session):
    # SQLite behind the services answers "database is locked" (500) under load: retry those.
    def request(self, *args, **kwargs):
        kwargs.setdefault('status_code_retries', 5)
        kwargs.setdefault('retriable_status_codes', [500, 503])
        kwargs.setdefault('status_code_retry_delay', 1.0)
        return super().request(*args, **kwargs)


def ep(s, kind):
    return s.get_endpoint(service_type=kind, interface='public')


def first(items, name):
    for i in items:
        if i.get('name') == name:
            return i
    return None


def ensure_role(s, ks, name):
    """Create the role NAME unless it exists; return all roles."""
    roles = s.get(ks + '/roles').json()['roles']
    if not first(roles, name):
        s.post(ks + '/roles', json={'role': {'name': name}})
        roles = s.get(ks + '/roles').json()['roles']
    return roles


def ensure_user(s, ks, users, name, password):
    """The user NAME (one of USERS, or made now)."""
    return first(users, name) or s.post(ks + '/users', json={'user': {
        'name': name, 'password': password, 'domain_id': 'default'}}).json()['user']


def setup(url):
    s = sess(url)
    ks = url + '/v3'
    roles = ensure_role(s, ks, 'service')
    admin_role = first(roles, 'admin')['id']
    service_role = first(roles, 'service')['id']
    member = first(roles, 'member') or first(roles, 'reader')
    member_role = member['id']
    projects = s.get(ks + '/projects').json()['projects']
    for name in ('service', 'demo'):
        if not first(projects, name):
            s.post(ks + '/projects', json={'project': {'name': name, 'domain_id': 'default'}})
    projects = s.get(ks + '/projects').json()['projects']
    service = first(projects, 'service')['id']
    demo = first(projects, 'demo')['id']
    users = s.get(ks + '/users').json()['users']
    for name, pw, project, role in (('nova', 'svc', service, admin_role),
                                    ('placement', 'svc', service, admin_role),
                                    ('glance', 'svc', service, admin_role),
                                    ('neutron', 'svc', service, admin_role),
                                    ('demo', DEMO_PW, demo, member_role)):
        u = ensure_user(s, ks, users, name, pw)
        s.put('%s/projects/%s/users/%s/roles/%s' % (ks, project, u['id'], role))
        if project == service:
            # keystonemiddleware passes the service's own token along as X-Service-Token
            # (nova -> neutron, nova -> glance): with service_token_roles_required, the
            # receiving service rejects it (401) unless it carries the `service` role.
            s.put('%s/projects/%s/users/%s/roles/%s' % (ks, project, u['id'], service_role))
    print(json.dumps({'demo_project': demo}))


def register(url, kind, name, endpoint):
    s = sess(url)
    ks = url + '/v3'
    services = s.get(ks + '/services').json()['services']
    if first(services, name):
        return
    sid = s.post(ks + '/services', json={'service': {'type': kind, 'name': name}}
                 ).json()['service']['id']
    for iface in ('public', 'internal', 'admin'):
        s.post(ks + '/endpoints', json={'endpoint': {'service_id': sid, 'interface': iface,
                                                     'url': endpoint, 'region_id': 'RegionOne'}})


def octavia(url, endpoint):
    """The service user `octavia` (admin and service roles in project service), the role
    `load-balancer_member` for the demo user (Octavia's policy refuses plain `member`: 403),
    and the `load-balancer` service at ENDPOINT."""
    s = sess(url)
    ks = url + '/v3'
    roles = ensure_role(s, ks, 'load-balancer_member')
    projects = s.get(ks + '/projects').json()['projects']
    service = first(projects, 'service')['id']
    demo = first(projects, 'demo')['id']
    users = s.get(ks + '/users').json()['users']
    u = ensure_user(s, ks, users, 'octavia', 'svc')
    for role in ('admin', 'service'):
        s.put('%s/projects/%s/users/%s/roles/%s' % (ks, service, u['id'],
                                                     first(roles, role)['id']))
    s.put('%s/projects/%s/users/%s/roles/%s' % (ks, demo, first(users, 'demo')['id'],
                                                 first(roles, 'load-balancer_member')['id']))
    register(url, 'load-balancer', 'octavia', endpoint)


def resources(url):
    s = sess(url)
    nova = ep(s, 'compute')
    flavors = s.get(nova + '/flavors', headers=MV).json()['flavors']
    if not first(flavors, 'm1.tiny'):
        s.post(nova + '/flavors', headers=MV, json={'flavor': {
            'name': 'm1.tiny', 'ram': 64, 'vcpus': 1, 'disk': 1}})
    glance = ep(s, 'image')
    # tiny, and tiny2 for a rolling replacement to a new image.
    for name in ('tiny', 'tiny2'):
        if s.get(glance + '/v2/images?name=' + name).json()['images']:
            continue
        img = s.post(glance + '/v2/images', json={
            'name': name, 'disk_format': 'raw', 'container_format': 'bare',
            'visibility': 'public'}).json()
        s.put(glance + '/v2/images/%s/file' % img['id'], data=b'\0' * 1024,
              headers={'Content-Type': 'application/octet-stream'})
    networks(url)


def networks(url):
    """sclnet (10.20.0.0/24, flat) and the external sclext (203.0.113.0/24) with a router."""
    s = sess(url)
    neutron = ep(s, 'network')
    nets = s.get(neutron + '/v2.0/networks?name=sclnet').json()['networks']
    if not nets:
        net = s.post(neutron + '/v2.0/networks', json={'network': {
            'name': 'sclnet', 'shared': True, 'provider:network_type': 'flat',
            'provider:physical_network': 'physnet1'}}).json()['network']
        sub = s.post(neutron + '/v2.0/subnets', json={'subnet': {
            'network_id': net['id'], 'ip_version': 4, 'cidr': '10.20.0.0/24',
            'name': 'sclnet-v4', 'enable_dhcp': False}}).json()['subnet']
        # An external network with a router to sclnet: what floating IPs are taken from (no
        # L3 agent runs: Neutron's API holds them, nothing forwards to them).
        ext = s.post(neutron + '/v2.0/networks', json={'network': {
            'name': 'sclext', 'router:external': True, 'provider:network_type': 'flat',
            'provider:physical_network': 'physnet2'}}).json()['network']
        s.post(neutron + '/v2.0/subnets', json={'subnet': {
            'network_id': ext['id'], 'ip_version': 4, 'cidr': '203.0.113.0/24',
            'name': 'sclext-v4', 'enable_dhcp': False}}).raise_for_status()
        router = s.post(neutron + '/v2.0/routers', json={'router': {
            'name': 'sclrouter', 'external_gateway_info': {'network_id': ext['id']}}})
        router.raise_for_status()
        s.put(neutron + '/v2.0/routers/%s/add_router_interface' % router.json()['router']['id'],
              json={'subnet_id': sub['id']}).raise_for_status()


def servers(url):
    s = sess(url)
    nova = ep(s, 'compute')
    out = []
    for v in s.get(nova + '/servers/detail?all_tenants=1', headers=MV).json()['servers']:
        addrs = [a['addr'] for net in v['addresses'].values() for a in net]
        image = v.get('image') or {}
        out.append({'name': v['name'], 'id': v['id'], 'status': v['status'],
                    'zone': v.get('OS-EXT-AZ:availability_zone'),
                    'image': image.get('id') if isinstance(image, dict) else None,
                    'user_data': v.get('OS-EXT-SRV-ATTR:user_data'),
                    'tags': sorted(v.get('tags', [])), 'addresses': addrs,
                    'metadata': v.get('metadata', {})})
    print(json.dumps(sorted(out, key=lambda x: x['name'])))


def create(url, name, *tags):
    s = sess(url, 'demo', DEMO_PW, 'demo')
    nova = ep(s, 'compute')
    flavor = first(s.get(nova + '/flavors', headers=MV).json()['flavors'], 'm1.tiny')['id']
    image = s.get(ep(s, 'image') + '/v2/images?name=tiny').json()['images'][0]['id']
    net = s.get(ep(s, 'network') + '/v2.0/networks?name=sclnet').json()['networks'][0]['id']
    body = {'server': {'name': name, 'flavorRef': flavor, 'imageRef': image,
                       'networks': [{'uuid': net}]}}
    if tags:
        body['server']['tags'] = list(tags)
        body['server']['metadata'] = {t.split('=')[0]: t.split('=')[1]
                                      for t in tags if '=' in t}
    r = s.post(nova + '/servers', headers=MV, json=body)
    print(r.json()['server']['id'])


def delete(url, name):
    """Delete the servers named NAME and wait (at most 90 s) until Nova no longer lists them;
    a delete that failed on the compute side (server left in ERROR) is sent again."""
    s = sess(url)
    nova = ep(s, 'compute')
    sent = {}
    for _ in range(90):
        left = [v for v in s.get(nova + '/servers/detail?all_tenants=1', headers=MV
                                 ).json()['servers'] if v['name'] == name]
        if not left:
            return
        for v in left:
            if v['id'] not in sent or (not v.get('OS-EXT-STS:task_state')
                                       and sent[v['id']] < 4):
                s.delete(nova + '/servers/' + v['id'], headers=MV, raise_exc=False)
                sent[v['id']] = sent.get(v['id'], 0) + 1
        time.sleep(1)
    sys.exit('servers named %s still exist' % name)


def quota(url, project, instances):
    s = sess(url)
    nova = ep(s, 'compute')
    s.put(nova + '/os-quota-sets/' + project, headers=MV,
          json={'quota_set': {'instances': int(instances)}})


def compute_up(url, count='1'):
    """Exit 0 once Nova lists at least COUNT hypervisors that are up."""
    s = sess(url)
    nova = ep(s, 'compute')
    hv = s.get(nova + '/os-hypervisors', headers=MV).json()['hypervisors']
    up = [h for h in hv if h.get('state', 'up') == 'up']
    sys.exit(0 if len(up) >= max(1, int(count)) else 1)


def zones(url, *pairs):
    """HOST=ZONE...: put each compute host in a host aggregate named ZONE whose availability
    zone is ZONE (Nova mirrors the membership into placement, where the scheduler looks)."""
    s = sess(url)
    nova = ep(s, 'compute')
    have = {a['name']: a for a in s.get(nova + '/os-aggregates', headers=MV).json()['aggregates']}
    for pair in pairs:
        host, zone = pair.split('=', 1)
        agg = have.get(zone) or s.post(nova + '/os-aggregates', headers=MV, json={
            'aggregate': {'name': zone, 'availability_zone': zone}}).json()['aggregate']
        if host not in agg.get('hosts', []):
            s.post(nova + '/os-aggregates/%s/action' % agg['id'], headers=MV,
                   json={'add_host': {'host': host}}).raise_for_status()


def probe(url):
    """Boot a server as the demo user until one reaches ACTIVE (right after start the scheduler
    may not see the compute node yet: NoValidHost), then delete it. At most 180 s."""
    s = sess(url, 'demo', DEMO_PW, 'demo')
    nova = ep(s, 'compute')
    deadline = time.time() + 180
    while time.time() < deadline:
        with open('/dev/null', 'w') as null:
            stdout, sys.stdout = sys.stdout, null
            try:
                create(url, 'sclman-probe')
            finally:
                sys.stdout = stdout
        status = 'BUILD'
        found = []
        while status == 'BUILD' and time.time() < deadline:
            time.sleep(1)
            found = [v for v in s.get(nova + '/servers/detail?name=%5Esclman-probe%24',
                                      headers=MV).json()['servers']]
            status = found[0]['status'] if found else 'GONE'
        delete(url, 'sclman-probe')
        if status == 'ACTIVE':
            return
        fault = found[0].get('fault', {}).get('message', '') if found else ''
        print('probe: server %s %s' % (status, fault), file=sys.stderr)
        time.sleep(2)
    sys.exit('no server reached ACTIVE')


def floatingips(url):
    """Every floating IP, with the server (device_id) of the port it is on."""
    s = sess(url)
    neutron = ep(s, 'network')
    out = []
    for f in s.get(neutron + '/v2.0/floatingips').json()['floatingips']:
        device = None
        if f['port_id']:
            device = s.get(neutron + '/v2.0/ports/' + f['port_id']).json()['port']['device_id']
        out.append({'id': f['id'], 'address': f['floating_ip_address'], 'port_id': f['port_id'],
                    'server_id': device, 'tags': sorted(f.get('tags', []))})
    print(json.dumps(sorted(out, key=lambda x: x['address'])))


def ports(url):
    """Every port: id, name, network, fixed addresses, tags."""
    s = sess(url)
    neutron = ep(s, 'network')
    out = [{'id': p['id'], 'name': p['name'], 'network_id': p['network_id'],
            'addresses': [f['ip_address'] for f in p['fixed_ips']],
            'tags': sorted(p.get('tags', []))}
           for p in s.get(neutron + '/v2.0/ports').json()['ports']]
    print(json.dumps(sorted(out, key=lambda x: x['name'])))


def image_id(url, name):
    """The id of the Glance image named NAME."""
    s = sess(url)
    print(s.get(ep(s, 'image') + '/v2/images?name=' + name).json()['images'][0]['id'])


def server_groups(url):
    """Every server group of every project: name, policies, member server ids."""
    s = sess(url)
    nova = ep(s, 'compute')
    groups = s.get(nova + '/os-server-groups?all_projects=True', headers=MV).json()['server_groups']
    print(json.dumps(sorted(({'id': g['id'], 'name': g['name'], 'policies': g.get('policies', []),
                              'members': sorted(g.get('members', []))} for g in groups),
                            key=lambda x: x['name'])))


def main():
    url, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    fn = {'setup': setup, 'register': register, 'resources': resources, 'servers': servers,
          'create': create, 'delete': delete, 'quota': quota, 'compute-up': compute_up,
          'probe': probe, 'octavia': octavia, 'floatingips': floatingips,
          'server-groups': server_groups, 'image-id': image_id, 'zones': zones,
          'networks': networks, 'ports': ports}[cmd]
    fn(url, *args)


if __name__ == '__main__':
    main()
