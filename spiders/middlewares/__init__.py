"""Downloader and spider middlewares of the Sluice Scrapy project."""
