"""Port requests: the owner's pages (`views`) and the rules that stop rejections (`rules`).

Nothing is imported here, so `import portal.port_requests.rules` loads no Flask.
"""
