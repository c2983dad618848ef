# sclman::lb_upstream: the LB's upstream list from Chef search (example recipe).
#
# sclman keeps one Chef environment per cluster and sets normal.sclman.in_service on each web
# node: true only once the instance answers health checks, false as soon as it starts to drain.
# Nodes that are booting or leaving therefore never match this search. sclman waits
# [CHEF] drain_seconds after setting false before it deletes the node, so run chef-client on
# the LB at least that often (e.g. chef-client -i 30 -s 5 for drain_seconds = 60).
#
# On sclman's local provider the same search is rendered by sclman itself (the chef-search
# balancer), into the same upstream block.

query = "role:web AND chef_environment:#{node.chef_environment} AND sclman_in_service:true"
backends = search(:node, query).map do |n|
  port = (n['sclman'] && n['sclman']['port']) || 80
  "#{n['ipaddress']}:#{port}"
end.sort

template '/etc/nginx/conf.d/sclman_upstream.conf' do
  source 'sclman_upstream.conf.erb'
  variables(backends: backends)
  notifies :reload, 'service[nginx]', :delayed
end
