"""Staff pages that span domains (DESIGN.md: the edge layer). Each module is one blueprint.

- ``campaign_review``: the admin campaign queue and review page: the campaign's lifecycle
  decisions and CPM/budget change requests (campaigns) beside recording offline funding
  (payments). It sits above both domains, so neither imports the other's pages.
"""
